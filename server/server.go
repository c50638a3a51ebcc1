// Package server is aktuald's HTTP API (DESIGN.md): its routes and
// handlers, the signing of fresh answers, and the credential checks and
// limits around them. Staff operations are in package admin; the data
// folder, keys, blobs, patches, metrics and the Internet-code page each
// have a package of their own beside it.
package server

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/blobs"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/metrics"
	"github.com/aktual/aktual/server/ratelimit"
	"github.com/aktual/aktual/server/store"
)

// Defaults.
const (
	DefaultReservationTTL = 7 * 24 * time.Hour
	// DefaultLatestTTL is how long a signed "latest" answer is valid: short
	// enough that a replayed old answer (freeze attack) is soon refused.
	DefaultLatestTTL = 24 * time.Hour
)

// Server serves the HTTP API. Zero durations take the defaults.
type Server struct {
	Store          store.Store
	Blobs          blobs.Blobs
	Keys           *keyring.Keys
	Version        string // reported by /healthz
	Now            clock.Func
	Logger         *slog.Logger
	ReservationTTL time.Duration
	LatestTTL      time.Duration
	// PublicURL is the server's address as customers reach it (behind a
	// proxy); empty: taken from each request.
	PublicURL string
	// Limiter limits failed credential attempts per client address and
	// per credential; nil: one with the defaults, on Now.
	Limiter     *ratelimit.Limiter
	limiterOnce sync.Once
	// SeparateMetrics leaves /metrics out of Handler: MetricsHandler
	// serves it, on a listener of its own.
	SeparateMetrics bool
	metricsOnce     sync.Once
	met             *metrics.Set
	draining        atomic.Bool  // set by Drain
	inFlight        atomic.Int64 // requests being served
	// latest caches the latest answers; Changes, shared with the Admin
	// of the same Instance, tells it of a publish (latest_cache.go).
	latest  latestCache
	Changes *datadir.Changes
	// series remembers each product's series once the store has named
	// it: a product keeps its series for good (a publish under another
	// is refused, and releases are never removed), so every reserve need
	// not ask the database. Unknown products are not remembered.
	series sync.Map // product → series
	// targets remembers each product's published versions, for the
	// check that a reserve names a real update (targets.go).
	targets sync.Map // product → *productTargets
}

// New returns the HTTP service over an opened data folder.
func New(in *datadir.Instance, version string, logger *slog.Logger) *Server {
	return &Server{Store: in.Store, Blobs: in.Blobs, Keys: in.Keys, Version: version, Logger: logger, Changes: in.Changes}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) reservationTTL() time.Duration {
	if s.ReservationTTL > 0 {
		return s.ReservationTTL
	}
	return DefaultReservationTTL
}

func (s *Server) latestTTL() time.Duration {
	if s.LatestTTL > 0 {
		return s.LatestTTL
	}
	return DefaultLatestTTL
}

// Handler returns the HTTP API.
func (s *Server) Handler() http.Handler {
	rt := newRouter()
	routes := []struct {
		methods string // allowed, for the 405 answer
		pattern string
		handler http.HandlerFunc
	}{
		{"GET, HEAD", "/healthz", s.handleHealth},
		{"GET, HEAD", "/readyz", s.handleReady},
		{"GET, HEAD", "/v1/products/{product}/latest", s.handleLatest},
		{"GET, HEAD", "/v1/products/{product}/releases", s.handleReleases},
		{"GET, HEAD", "/v1/artifacts/{sha256}", s.handleArtifact},
		{"POST", "/v1/reservations", s.handleReserve},
		{"POST", "/v1/reservations/{id}/complete", s.handleComplete},
		{"POST", "/v1/reservations/{id}/release", s.handleRelease},
		{"POST", "/v1/reservations/settle", s.handleSettle},
		{"POST", "/v1/install", s.handleInstall},
		{"POST", "/v1/reports", s.handleReports},
		{"POST", "/v1/entitlements/query", s.handleEntitlementQuery},
		{"POST", "/v1/classic/challenges", s.handleChallenge},
		{"POST", "/v1/classic/sessions", s.handleOpenSession},
		{"GET, HEAD", "/v1/classic/sessions/{id}", s.handleSessionStatus},
		{"GET, HEAD", "/classic/{id}", s.handlePage},
		{"POST", "/classic/{id}/continue", s.handleContinue},
	}
	for _, r := range routes {
		rt.handle(r.methods, r.pattern, r.handler)
	}
	if !s.SeparateMetrics {
		rt.handle("GET, HEAD", metrics.Path, s.handleMetrics)
	}
	return s.instrument(rt)
}

// MetricsHandler serves only /metrics, for a listener of its own (see
// SeparateMetrics). Its requests are counted and logged as Handler's are.
func (s *Server) MetricsHandler() http.Handler {
	rt := newRouter()
	rt.handle("GET, HEAD", metrics.Path, s.handleMetrics)
	return s.instrument(rt)
}

// Drain marks the server as shutting down, before its listener closes:
// /readyz answers 503, so a load balancer stops sending it requests, and
// every answer asks its client to close the connection. Requests are still
// served.
func (s *Server) Drain() { s.draining.Store(true) }

// InFlight is the number of requests being served.
func (s *Server) InFlight() int64 { return s.inFlight.Load() }

// router is a ServeMux that knows its patterns: metrics and logs name a
// request by the pattern it matched, and only by one of these.
type router struct {
	mux      *http.ServeMux
	h        http.Handler // mux, with the security headers
	patterns map[string]bool
}

// newRouter returns a router that answers not_found for any path it is
// not given a handler for.
func newRouter() *router {
	mux := http.NewServeMux()
	rt := &router{mux: mux, h: securityHeaders(mux), patterns: map[string]bool{}}
	rt.add("/", noSuchEndpoint)
	return rt
}

func (rt *router) add(pattern string, h http.HandlerFunc) {
	rt.mux.HandleFunc(pattern, h)
	rt.patterns[pattern] = true
}

// handle registers h for the first of methods (GET also answers HEAD), and
// for any other method an answer that names them.
func (rt *router) handle(methods, pattern string, h http.HandlerFunc) {
	method, _, _ := strings.Cut(methods, ",")
	rt.add(method+" "+pattern, h)
	rt.add(pattern, methodNotAllowed(methods))
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.h.ServeHTTP(w, r) }

func noSuchEndpoint(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusNotFound, api.CodeNotFound, i18n.M("no such endpoint: %s %s", r.Method, r.URL.Path))
}

func methodNotAllowed(allowed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowed)
		writeError(w, r, http.StatusMethodNotAllowed, api.CodeBadRequest, i18n.M("%s is not allowed here; use %s", r.Method, allowed))
	}
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// HTTPServer wraps h with timeouts on every phase, so a slow or idle client
// cannot hold a connection for ever.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Artifacts may be large and lines slow: a generous write timeout.
		WriteTimeout:   30 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 16 << 10,
	}
}
