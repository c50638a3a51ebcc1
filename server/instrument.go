package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/metrics"
	"github.com/aktual/aktual/server/store"
)

// metrics returns the server's collectors, made on first use.
func (s *Server) metrics() *metrics.Set {
	s.metricsOnce.Do(func() {
		s.met = metrics.New(metrics.Server{
			Version:  s.Version,
			InFlight: s.inFlight.Load,
			Draining: s.draining.Load,
			ErrorLog: s.logger(),
			Field:    s.fieldCounts,
		})
	})
	return s.met
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) { s.metrics().ServeHTTP(w, r) }

// reserveOutcome tells a new reservation from a repeat of one made
// before: a repeat is answered with the reservation as it is, created
// before now (the store keeps at least microseconds). Under a frozen test
// clock a repeat within the same instant counts as reserved.
func reserveOutcome(res store.Reservation, now time.Time) string {
	if res.State != api.StateHeld || res.CreatedAt.Before(now.Truncate(time.Microsecond)) {
		return metrics.OutcomeReplayed
	}
	return metrics.OutcomeReserved
}

// finishOutcome is what for a completion or release that changed the
// reservation now, and replayed for one already done before.
func finishOutcome(what string, res store.Reservation, now time.Time) string {
	if res.UpdatedAt.Before(now.Truncate(time.Microsecond)) {
		return metrics.OutcomeReplayed
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
		rec := &metrics.Recorder{ResponseWriter: w}
		r, info := metrics.WithInfo(r)
		defer func() {
			if p := recover(); p != nil {
				rec.Failed()
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
func (s *Server) observe(rt *router, r *http.Request, rec *metrics.Recorder, info *metrics.RequestInfo, took time.Duration) {
	pattern := r.Pattern
	if !rt.patterns[pattern] {
		pattern = ""
	}
	s.metrics().Observe(pattern, r.Method, rec, info, took)
	s.logRequest(r, pattern, rec, info, took)
}

// probePatterns are asked every few seconds by load balancers and
// Prometheus: answered well, they are logged at Debug, not to drown the
// requests of customers.
var probePatterns = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET " + metrics.Path: true}

// RequestLogMessage is the message of the line logged for each request;
// aktuald serve buffers these lines (and only these) before writing them.
const RequestLogMessage = "request"

// logRequest writes the request's line: what was asked (the route, never
// the path or the query, which may carry a session), how it was answered,
// and for a refusal its error code. Credentials travel in bodies, which are
// never logged.
func (s *Server) logRequest(r *http.Request, pattern string, rec *metrics.Recorder, info *metrics.RequestInfo, took time.Duration) {
	status := rec.Status()
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
		slog.String("method", metrics.MethodLabel(r.Method)),
		slog.String("route", metrics.RouteLabel(pattern)),
		slog.Int("status", status),
		slog.Int64("bytes", rec.Bytes()),
		slog.Duration("duration", took),
		slog.String("remote", r.RemoteAddr),
	}
	if code := metrics.ErrorCode(info, status); code != "" {
		attrs = append(attrs, slog.String("error", code))
	}
	log.LogAttrs(r.Context(), level, RequestLogMessage, attrs...)
}
