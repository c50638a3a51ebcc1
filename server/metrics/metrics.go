// Package metrics owns aktuald's Prometheus metrics: the collectors of one
// server, the labels they may take, and the recorder that notes what each
// request was answered.
package metrics

import (
	"cmp"
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
)

// Path is where the Prometheus metrics are served.
const Path = "/metrics"

// The route patterns whose requests are also counted by what they did. They
// are the patterns the server registers: the metrics test fails if they
// part.
const (
	PatternArtifact = "GET /v1/artifacts/{sha256}"
	PatternReserve  = "POST /v1/reservations"
	PatternComplete = "POST /v1/reservations/{id}/complete"
	PatternRelease  = "POST /v1/reservations/{id}/release"
	PatternSettle   = "POST /v1/reservations/settle"
	PatternInstall  = "POST /v1/install"
	PatternReports  = "POST /v1/reports"
)

// Kinds of credential, for aktuald_credential_failures_total.
const (
	CredProCode      = "pro_code"      // a Pro-series update code the server does not know
	CredClassicKey   = "classic_key"   // a hardware key's licence or signature refused
	CredInternetCode = "internet_code" // a classic session's Internet code (or the session) refused
)

// Outcomes of a reservation, a completion or a release. A refusal's
// outcome is its API error code (exhausted, unknown_credential,
// rate_limited…); a server failure is OutcomeError.
const (
	OutcomeReserved  = "reserved"
	OutcomeCompleted = "completed"
	OutcomeReleased  = "released"
	OutcomeReplayed  = "replayed" // an idempotent repeat: nothing moved
	OutcomeAnswered  = "answered" // a settle or first-install question answered, nothing moved
	OutcomeError     = "error"
	OutcomeOther     = "other"
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

// Set is one server's Prometheus collectors, on a registry of its own:
// servers in one process (tests) never share a count.
type Set struct {
	handler            http.Handler // the exposition of the registry
	requests           *prometheus.CounterVec
	latency            *prometheus.HistogramVec
	reservations       *prometheus.CounterVec
	completions        *prometheus.CounterVec
	releases           *prometheus.CounterVec
	settlements        *prometheus.CounterVec
	installs           *prometheus.CounterVec
	downloads          *prometheus.CounterVec
	downloadBytes      prometheus.Counter
	credentialFailures *prometheus.CounterVec
	reportBatches      *prometheus.CounterVec // field.go
}

// Server is what the collectors read of the server they count.
type Server struct {
	Version  string       // for aktuald_build_info
	InFlight func() int64 // requests being served
	Draining func() bool  // the server is shutting down
	ErrorLog *slog.Logger // where the exposition reports its failures
	// Field reads the field reports' counts of every product (field.go);
	// nil: no field gauges.
	Field func(context.Context) ([]FieldProduct, error)
}

// New returns the collectors of one server.
func New(s Server) *Set {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := promauto.With(reg)
	m := &Set{
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
		settlements: f.NewCounterVec(prometheus.CounterOpts{
			Name: "aktuald_settlements_total",
			Help: "Settle-by-key requests, by outcome: released, answered (nothing moved), replayed, or the error code of the refusal.",
		}, []string{"outcome"}),
		installs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "aktuald_install_answers_total",
			Help: "First-install requests, by outcome: answered, or the error code of the refusal.",
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
	}, func() float64 { return float64(s.InFlight()) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "aktuald_draining",
		Help: "1 while the server shuts down (/readyz answers 503), else 0.",
	}, func() float64 {
		if s.Draining() {
			return 1
		}
		return 0
	})
	f.NewGauge(prometheus.GaugeOpts{
		Name:        "aktuald_build_info",
		Help:        "Always 1; the version label says which aktuald this is.",
		ConstLabels: prometheus.Labels{"version": s.Version},
	}).Set(1)
	m.registerField(f, reg, s)
	m.startAtZero()
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(cmp.Or(s.ErrorLog, slog.New(slog.DiscardHandler)).Handler(), slog.LevelError),
		Registry: reg, // counts its own failures as promhttp_metric_handler_errors_total
	})
	return m
}

// CredentialFailed counts a credential refused as wrong (where the limiter
// counts a failed attempt).
func (m *Set) CredentialFailed(kind string) { m.credentialFailures.WithLabelValues(kind).Inc() }

// startAtZero creates the known outcomes' series at zero, so a rate over
// them is defined from the first scrape.
func (m *Set) startAtZero() {
	for _, o := range []string{OutcomeReserved, OutcomeReplayed, api.CodeExhausted, api.CodeUnknownCredential,
		api.CodeInactive, api.CodeWrongSeries, api.CodeRateLimited, OutcomeError} {
		m.reservations.WithLabelValues(o)
	}
	for _, o := range []string{OutcomeCompleted, OutcomeReplayed, OutcomeError} {
		m.completions.WithLabelValues(o)
	}
	for _, o := range []string{OutcomeReleased, OutcomeReplayed, OutcomeError} {
		m.releases.WithLabelValues(o)
	}
	for _, o := range []string{OutcomeReleased, OutcomeAnswered, api.CodeNotFound, api.CodeRateLimited, OutcomeError} {
		m.settlements.WithLabelValues(o)
	}
	for _, o := range []string{OutcomeAnswered, api.CodeUnknownCredential, api.CodeInactive, api.CodeNotFound, api.CodeRateLimited, OutcomeError} {
		m.installs.WithLabelValues(o)
	}
	for _, r := range []string{"full", "partial", "redirect", "not_modified", "not_found"} {
		m.downloads.WithLabelValues(r)
	}
	for _, k := range []string{CredProCode, CredClassicKey, CredInternetCode} {
		m.credentialFailures.WithLabelValues(k)
	}
}

// ServeHTTP serves the exposition of the registry.
func (m *Set) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// RequestInfo is what a handler tells the middleware about its request.
type RequestInfo struct {
	outcome   string // what the request achieved; "" for a refusal
	errorCode string // the API error code writeError answered with
}

type requestInfoKey struct{}

// WithInfo returns r carrying a RequestInfo its handler fills in.
func WithInfo(r *http.Request) (*http.Request, *RequestInfo) {
	info := &RequestInfo{}
	return r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)), info
}

// NoteErrorCode records the API error code of a refusal.
func NoteErrorCode(r *http.Request, code string) {
	if info, ok := r.Context().Value(requestInfoKey{}).(*RequestInfo); ok {
		info.errorCode = code
	}
}

// NoteOutcome records what a request achieved, for the metrics of its
// route. A handler calls it where it succeeds: a refusal is known by the
// error code of its answer.
func NoteOutcome(r *http.Request, outcome string) {
	if info, ok := r.Context().Value(requestInfoKey{}).(*RequestInfo); ok {
		info.outcome = outcome
	}
}

// Observe counts one answered request: pattern is the route pattern it
// matched ("" for none of ours), never its path.
func (m *Set) Observe(pattern, method string, rec *Recorder, info *RequestInfo, took time.Duration) {
	status := rec.Status()
	route, method := RouteLabel(pattern), MethodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
	switch pattern {
	case PatternArtifact:
		if method == http.MethodGet { // HEAD asks, it does not download
			m.downloads.WithLabelValues(downloadResult(status)).Inc()
			if status == http.StatusOK || status == http.StatusPartialContent {
				m.downloadBytes.Add(float64(rec.bytes)) // not the body of a refusal
			}
		}
	case PatternReserve:
		m.reservations.WithLabelValues(rec.outcome(info, status)).Inc()
	case PatternComplete:
		m.completions.WithLabelValues(rec.outcome(info, status)).Inc()
	case PatternRelease:
		m.releases.WithLabelValues(rec.outcome(info, status)).Inc()
	case PatternSettle:
		m.settlements.WithLabelValues(rec.outcome(info, status)).Inc()
	case PatternInstall:
		m.installs.WithLabelValues(rec.outcome(info, status)).Inc()
	case PatternReports:
		m.reportBatches.WithLabelValues(rec.outcome(info, status)).Inc()
	}
}

// RouteLabel is a pattern without its method ("/v1/artifacts/{sha256}");
// "unmatched" for a request that matched none of ours.
func RouteLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// MethodLabel bounds the method label: a client may send any token.
func MethodLabel(m string) string {
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

// Recorder is the ResponseWriter the middleware hands on: it notes the
// status and the body's size.
type Recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *Recorder) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *Recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's own ReadFrom (sendfile) for artifacts, which
// http.ServeContent copies with io.Copy.
func (w *Recorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, src)
	w.bytes += n
	return n, err
}

func (w *Recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *Recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ErrorCode is the API error code of a refusal, when it is one of ours;
// else "".
func ErrorCode(info *RequestInfo, status int) string {
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
func (w *Recorder) outcome(info *RequestInfo, status int) string {
	if info.outcome != "" {
		return info.outcome
	}
	if status >= 500 {
		return OutcomeError
	}
	if code := ErrorCode(info, status); code != "" {
		return code
	}
	if status == http.StatusTooManyRequests {
		return api.CodeRateLimited
	}
	return OutcomeOther
}

// Status is the answer's status code: 200 when nothing was written, as
// net/http then answers.
func (w *Recorder) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Bytes is the size of the body written.
func (w *Recorder) Bytes() int64 { return w.bytes }

// Failed marks an answer a panic cut short: 500 unless a status was sent.
func (w *Recorder) Failed() {
	if w.status == 0 {
		w.status = http.StatusInternalServerError
	}
}
