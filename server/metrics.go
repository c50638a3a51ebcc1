package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// MetricsPath is where the Prometheus metrics are served.
const MetricsPath = "/metrics"

// The route patterns whose requests are also counted by what they did. They
// are the patterns Handler registers: the metrics test fails if they part.
const (
	patternArtifact = "GET /v1/artifacts/{sha256}"
	patternReserve  = "POST /v1/reservations"
	patternComplete = "POST /v1/reservations/{id}/complete"
	patternRelease  = "POST /v1/reservations/{id}/release"
)

// Kinds of credential, for aktuald_credential_failures_total.
const (
	credProCode      = "pro_code"      // a Pro-series update code the server does not know
	credClassicKey   = "classic_key"   // a hardware key's licence or signature refused
	credInternetCode = "internet_code" // a classic session's Internet code (or the session) refused
)

// Outcomes of a reservation, a completion or a release. A refusal's
// outcome is its API error code (exhausted, unknown_credential,
// rate_limited…); a server failure is outcomeError.
const (
	outcomeReserved  = "reserved"
	outcomeCompleted = "completed"
	outcomeReleased  = "released"
	outcomeReplayed  = "replayed" // an idempotent repeat: nothing moved
	outcomeError     = "error"
	outcomeOther     = "other"
)

// refusalCodes are the API error codes a metric label may take: a label
// value must come from a bounded set, never from what a request sent.
var refusalCodes = map[string]bool{
	api.CodeInvalidCode: true, api.CodeUnknownCredential: true, api.CodeInactive: true,
	api.CodeExhausted: true, api.CodeWrongSeries: true, api.CodeRateLimited: true,
	api.CodeExpired: true, api.CodeNotFound: true, api.CodeBadRequest: true,
	api.CodeConflict: true,
}

// latencyBuckets reach to half an hour: an artifact download on a slow
// line is a request too.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800}

// metrics are one server's Prometheus collectors, on a registry of its
// own: servers in one process (tests) never share a count.
type metrics struct {
	handler            http.Handler // the exposition of the registry
	requests           *prometheus.CounterVec
	latency            *prometheus.HistogramVec
	reservations       *prometheus.CounterVec
	completions        *prometheus.CounterVec
	releases           *prometheus.CounterVec
	downloads          *prometheus.CounterVec
	downloadBytes      prometheus.Counter
	credentialFailures *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := promauto.With(reg)
	m := &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "aktuald_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aktuald_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by route pattern.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		reservations: f.NewCounterVec(prometheus.CounterOpts{
			Name: "aktuald_reservations_total",
			Help: "Reserve requests, by outcome: reserved, replayed (an idempotent repeat), or the error code of the refusal.",
		}, []string{"outcome"}),
		completions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "aktuald_completions_total",
			Help: "Complete requests, by outcome: completed, replayed, or the error code of the refusal.",
		}, []string{"outcome"}),
		releases: f.NewCounterVec(prometheus.CounterOpts{
			Name: "aktuald_releases_total",
			Help: "Release requests, by outcome: released, replayed, or the error code of the refusal.",
		}, []string{"outcome"}),
		downloads: f.NewCounterVec(prometheus.CounterOpts{
			Name: "aktuald_artifact_downloads_total",
			Help: "Artifact GET requests, by result: full, partial, redirect, not_modified, not_found, bad_range, refused, error.",
		}, []string{"result"}),
		downloadBytes: f.NewCounter(prometheus.CounterOpts{
			Name: "aktuald_artifact_bytes_served_total",
			Help: "Artifact bytes sent, whole and partial answers together.",
		}),
		credentialFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "aktuald_credential_failures_total",
			Help: "Credentials refused as wrong, by kind: pro_code, classic_key, internet_code.",
		}, []string{"kind"}),
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "aktuald_http_requests_in_flight",
		Help: "Requests being served now.",
	}, func() float64 { return float64(s.inFlight.Load()) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "aktuald_draining",
		Help: "1 while the server shuts down (/readyz answers 503), else 0.",
	}, func() float64 {
		if s.draining.Load() {
			return 1
		}
		return 0
	})
	f.NewGauge(prometheus.GaugeOpts{
		Name:        "aktuald_build_info",
		Help:        "Always 1; the version label says which aktuald this is.",
		ConstLabels: prometheus.Labels{"version": s.Version},
	}).Set(1)
	// Known outcomes start at zero, so a rate over them is defined from the
	// first scrape.
	for _, o := range []string{outcomeReserved, outcomeReplayed, api.CodeExhausted, api.CodeUnknownCredential,
		api.CodeInactive, api.CodeWrongSeries, api.CodeRateLimited, outcomeError} {
		m.reservations.WithLabelValues(o)
	}
	for _, o := range []string{outcomeCompleted, outcomeReplayed, outcomeError} {
		m.completions.WithLabelValues(o)
	}
	for _, o := range []string{outcomeReleased, outcomeReplayed, outcomeError} {
		m.releases.WithLabelValues(o)
	}
	for _, r := range []string{"full", "partial", "redirect", "not_modified", "not_found"} {
		m.downloads.WithLabelValues(r)
	}
	for _, k := range []string{credProCode, credClassicKey, credInternetCode} {
		m.credentialFailures.WithLabelValues(k)
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.logger().Handler(), slog.LevelError),
		Registry: reg, // counts its own failures as promhttp_metric_handler_errors_total
	})
	return m
}

// metrics returns the server's collectors, made on first use.
func (s *Server) metrics() *metrics {
	s.metricsOnce.Do(func() { s.met = newMetrics(s) })
	return s.met
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics().handler.ServeHTTP(w, r)
}

// credentialFailed counts a credential refused as wrong (where the limiter
// counts a failed attempt).
func (m *metrics) credentialFailed(kind string) { m.credentialFailures.WithLabelValues(kind).Inc() }

// requestInfo is what a handler tells the middleware about its request.
type requestInfo struct {
	outcome   string // what the request achieved; "" for a refusal
	errorCode string // the API error code writeError answered with
}

type requestInfoKey struct{}

// noteOutcome records what a request achieved, for the metrics of its
// route. A handler calls it where it succeeds: a refusal is known by the
// error code of its answer.
// noteErrorCode records the API error code of a refusal (writeError).
func noteErrorCode(r *http.Request, code string) {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.errorCode = code
	}
}

func noteOutcome(r *http.Request, outcome string) {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.outcome = outcome
	}
}

// reserveOutcome tells a new reservation from a repeat of one made
// before: a repeat is answered with the reservation as it is, created
// before now (the store keeps at least microseconds). Under a frozen test
// clock a repeat within the same instant counts as reserved.
func reserveOutcome(res store.Reservation, now time.Time) string {
	if res.State != api.StateHeld || res.CreatedAt.Before(now.Truncate(time.Microsecond)) {
		return outcomeReplayed
	}
	return outcomeReserved
}

// finishOutcome is what for a completion or release that changed the
// reservation now, and replayed for one already done before.
func finishOutcome(what string, res store.Reservation, now time.Time) string {
	if res.UpdatedAt.Before(now.Truncate(time.Microsecond)) {
		return outcomeReplayed
	}
	return what
}

// instrument counts and logs every request rt serves.
func (s *Server) instrument(rt *router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() // the wall clock, even when tests set s.Now
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		if s.draining.Load() {
			// A keep-alive connection to a replica that is going away is
			// closed, so the client's next request goes to another.
			w.Header().Set("Connection", "close")
		}
		rec := &recorder{ResponseWriter: w}
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		defer func() {
			if p := recover(); p != nil {
				if rec.status == 0 {
					rec.status = http.StatusInternalServerError
				}
				s.observe(rt, r, rec, info, time.Since(start))
				panic(p) // net/http logs it and drops the connection
			}
		}()
		rt.ServeHTTP(rec, r)
		s.observe(rt, r, rec, info, time.Since(start))
	})
}

// observe counts one answered request and logs it. Labels come from the
// route pattern the mux matched, never from the path: a path is chosen by
// the client (unbounded), and some carry secrets (a classic page's
// session opens the page that shows the Internet code). Nor is a pattern
// rt did not register: for a redirect of its own, ServeMux can report the
// path it redirects to as the pattern.
func (s *Server) observe(rt *router, r *http.Request, rec *recorder, info *requestInfo, took time.Duration) {
	m := s.metrics()
	status := rec.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http answers 200
	}
	pattern := r.Pattern
	if !rt.patterns[pattern] {
		pattern = ""
	}
	route, method := routeLabel(pattern), methodLabel(r.Method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
	switch pattern {
	case patternArtifact:
		if r.Method == http.MethodGet { // HEAD asks, it does not download
			m.downloads.WithLabelValues(downloadResult(status)).Inc()
			if status == http.StatusOK || status == http.StatusPartialContent {
				m.downloadBytes.Add(float64(rec.bytes)) // not the body of a refusal
			}
		}
	case patternReserve:
		m.reservations.WithLabelValues(rec.outcome(info, status)).Inc()
	case patternComplete:
		m.completions.WithLabelValues(rec.outcome(info, status)).Inc()
	case patternRelease:
		m.releases.WithLabelValues(rec.outcome(info, status)).Inc()
	}
	s.logRequest(r, pattern, route, method, status, rec, info, took)
}

// probePatterns are asked every few seconds by load balancers and
// Prometheus: answered well, they are logged at Debug, not to drown the
// requests of customers.
var probePatterns = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET " + MetricsPath: true}

// RequestLogMessage is the message of the line logged for each request;
// aktuald serve buffers these lines (and only these) before writing them.
const RequestLogMessage = "request"

// logRequest writes the request's line: what was asked (the route, never
// the path or the query, which may carry a session), how it was answered,
// and for a refusal its error code. Credentials travel in bodies, which are
// never logged.
func (s *Server) logRequest(r *http.Request, pattern, route, method string, status int, rec *recorder, info *requestInfo, took time.Duration) {
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status < 400 && probePatterns[pattern]:
		level = slog.LevelDebug
	}
	log := s.logger()
	if !log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", took),
		slog.String("remote", r.RemoteAddr),
	}
	if code := errorCode(info, status); code != "" {
		attrs = append(attrs, slog.String("error", code))
	}
	log.LogAttrs(r.Context(), level, RequestLogMessage, attrs...)
}

// routeLabel is a pattern without its method ("/v1/artifacts/{sha256}");
// "unmatched" for a request that matched none of ours.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// methodLabel bounds the method label: a client may send any token.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

func downloadResult(status int) string {
	switch {
	case status == http.StatusOK:
		return "full"
	case status == http.StatusPartialContent:
		return "partial"
	case status == http.StatusNotModified:
		return "not_modified"
	case status >= 300 && status < 400:
		return "redirect"
	case status == http.StatusNotFound:
		return "not_found"
	case status == http.StatusRequestedRangeNotSatisfiable:
		return "bad_range"
	case status >= 500:
		return "error"
	}
	return "refused"
}

// recorder is the ResponseWriter the middleware hands on: it notes the
// status and the body's size.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's own ReadFrom (sendfile) for artifacts, which
// http.ServeContent copies with io.Copy.
func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, src)
	w.bytes += n
	return n, err
}

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errorCode is the API error code of a refusal, when it is one of ours;
// else "".
func errorCode(info *requestInfo, status int) string {
	if status < 400 {
		return ""
	}
	if c := info.errorCode; c == api.CodeInternal || refusalCodes[c] {
		return c
	}
	return ""
}

// outcome is what a reserve, complete or release achieved: what the
// handler noted, else why it was refused.
func (w *recorder) outcome(info *requestInfo, status int) string {
	if info.outcome != "" {
		return info.outcome
	}
	if status >= 500 {
		return outcomeError
	}
	if code := errorCode(info, status); code != "" {
		return code
	}
	if status == http.StatusTooManyRequests {
		return api.CodeRateLimited
	}
	return outcomeOther
}
