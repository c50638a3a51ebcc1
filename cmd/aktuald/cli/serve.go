package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/metrics"
)

// sweepInterval: how often expired reservations are given back.
const sweepInterval = time.Minute

// DefaultShutdownTimeout bounds how long a stopping server waits for the
// requests it is serving (a large download on a slow line can take longer:
// it is then cut off, and the client resumes it elsewhere with Range).
const DefaultShutdownTimeout = 30 * time.Second

// serveOptions are serve's flags.
type serveOptions struct {
	addr, readyFile, tlsCert, tlsKey string
	metricsAddr                      string
	logFormat                        logFormat
	logLevel                         logLevel
	shutdownTimeout, drainDelay      time.Duration
	logFlushInterval                 time.Duration
	admin                            adminOptions
}

func newServeCmd(e *env) *cobra.Command {
	o := serveOptions{logFormat: "text", logLevel: logLevel(slog.LevelInfo)}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the update API (initialises the data folder on first start)",
		Long: `Serve the update API (initialises the data folder on first start).

Prometheus metrics are served at /metrics: on the API's own listener, or
with --metrics-addr only on that address (keep it private). Each request is
logged to stderr, one line, at info (errors at error); request lines are
written together, at most --log-flush-interval after the first, and every
other line at once. On SIGTERM or Ctrl-C
the server answers /readyz with 503, waits --drain-delay, stops accepting,
finishes the requests in flight (at most --shutdown-timeout) and exits 0; a
second signal cuts them off at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), e, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8420", "address to listen on")
	f.StringVar(&o.readyFile, "ready-file", "", "write the server's URL to this file once it accepts connections")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain); needs --tls-key")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve /metrics only on this address, in plain HTTP (default: on --addr)")
	f.Var(&o.logFormat, "log-format", "request and server log format on stderr: text or json")
	f.DurationVar(&o.logFlushInterval, "log-flush-interval", DefaultLogFlushInterval, "request log lines wait in memory at most this long before they are written together (0: write each at once); other lines are written at once")
	f.Var(&o.logLevel, "log-level", "lowest level logged: debug, info, warn or error (health checks and scrapes are logged at debug)")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "on SIGTERM, wait this long at most for the requests in flight (downloads included) before cutting them off")
	f.DurationVar(&o.drainDelay, "drain-delay", 0, "on SIGTERM, keep serving this long with /readyz answering 503 before closing the listener, so a load balancer stops sending requests first")
	f.StringVar(&o.admin.addr, "admin-addr", "", "serve the staff console and the admin API (/admin/v1/) on this address (default: off); keep it on the office network")
	f.StringSliceVar(&o.admin.trustedProxy, "trusted-proxy", nil, "believe X-Forwarded-For from these reverse proxies (CIDRs or addresses, comma-separated) for the client's address in login limits and the audit log")
	f.BoolVar(&o.admin.insecureHTTP, "admin-insecure-http", false, "allow --admin-addr in plain HTTP on a non-loopback address (only behind a proxy that terminates TLS)")
	return cmd
}

func runServe(ctx context.Context, e *env, o serveOptions) error {
	// Checked before anything starts, so a typo never leaves a
	// half-started server.
	if o.shutdownTimeout <= 0 || o.drainDelay < 0 {
		return usagef("--shutdown-timeout must be positive and --drain-delay not negative (e.g. --shutdown-timeout 30s --drain-delay 5s)")
	}
	if o.logFlushInterval < 0 || o.logFlushInterval > maxLogFlushInterval {
		return usagef("--log-flush-interval must be between 0 (write each line at once) and %s (e.g. --log-flush-interval 100ms)", maxLogFlushInterval)
	}
	tlsConfig, err := loadTLS(o.tlsCert, o.tlsKey)
	if err != nil {
		return err
	}
	if err := o.admin.check(tlsConfig != nil); err != nil {
		return err
	}
	logger, flushLog := o.logger(e.errOut)
	defer flushLog()
	serverGC()
	// Held until the database is closed: admin restore refuses meanwhile.
	release, err := e.holdDatabase()
	if err != nil {
		return err
	}
	defer release()
	inst, err := e.open()
	if err != nil {
		return err
	}
	defer inst.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usagef("cannot listen on %s: %v; choose another --addr", o.addr, err)
	}
	defer ln.Close()
	service := server.New(inst, version(), logger)
	service.SeparateMetrics = o.metricsAddr != ""
	srv := server.HTTPServer(o.addr, service.Handler())
	// net/http's own complaints (TLS handshakes that fail, say) go
	// to the same structured log.
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	url := "http://" + ln.Addr().String()
	serve := func() error { return srv.Serve(ln) }
	if tlsConfig != nil {
		url = "https://" + ln.Addr().String()
		srv.TLSConfig = tlsConfig
		serve = func() error { return srv.ServeTLS(ln, "", "") } // the pair is in TLSConfig
	}
	errc := make(chan error, 3)
	msrv, err := o.serveMetrics(service, srv.ErrorLog, logger, errc)
	if err != nil {
		return err
	}
	if msrv != nil {
		defer msrv.Close() // on an early return; shutdown stops it gracefully otherwise
	}
	asrv, err := o.serveAdmin(inst, tlsConfig, logger, errc)
	if err != nil {
		return err
	}
	go sweep(ctx, inst, e.now, logger)
	go func() { errc <- serve() }()
	logger.Info("serving", "url", url, "data", string(inst.Dir), "trust", inst.Dir.Path(datadir.TrustFile))
	logNotices(logger, inst.Store)
	if o.readyFile != "" {
		if err := os.WriteFile(o.readyFile, []byte(url+"\n"), 0o644); err != nil {
			return fmt.Errorf("writing --ready-file: %w", err)
		}
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if asrv != nil {
		defer asrv.Close() // after the update API's drain: staff sessions are short requests
	}
	return shutdown(service, srv, msrv, o, logger)
}

// serveMetrics starts the metrics listener when --metrics-addr is given.
// logNotices logs what the store knows an operator should hear
// (PostgreSQL without pg_trgm: a slow staff search).
func logNotices(logger *slog.Logger, st any) {
	if n, ok := st.(interface{ Notices() []string }); ok {
		for _, msg := range n.Notices() {
			logger.Warn(msg)
		}
	}
}

func (o serveOptions) serveMetrics(service *server.Server, errLog *log.Logger, logger *slog.Logger, errc chan<- error) (*http.Server, error) {
	if o.metricsAddr == "" {
		return nil, nil
	}
	mln, err := net.Listen("tcp", o.metricsAddr)
	if err != nil {
		return nil, usagef("cannot listen on %s: %v; choose another --metrics-addr", o.metricsAddr, err)
	}
	msrv := server.HTTPServer(o.metricsAddr, service.MetricsHandler())
	msrv.ErrorLog = errLog
	go func() { errc <- msrv.Serve(mln) }()
	logger.Info("serving metrics", "url", "http://"+mln.Addr().String()+metrics.Path)
	return msrv, nil
}

// serveAdmin starts the admin listener when --admin-addr is given.
func (o serveOptions) serveAdmin(inst *datadir.Instance, tlsConfig *tls.Config, logger *slog.Logger, errc chan<- error) (*http.Server, error) {
	if o.admin.addr == "" {
		return nil, nil
	}
	https := tlsConfig != nil
	asrv, err := o.admin.server(inst, https, logger)
	if err != nil {
		return nil, err
	}
	aln, url, err := o.admin.listen(https)
	if err != nil {
		return nil, err
	}
	if https {
		asrv.TLSConfig = tlsConfig
		go func() { errc <- asrv.ServeTLS(aln, "", "") }()
	} else {
		go func() { errc <- asrv.Serve(aln) }()
	}
	logger.Info("serving the staff console and admin API", "url", url)
	return asrv, nil
}

// shutdown stops a server that was told to (SIGTERM, Ctrl-C): not ready
// at once, the listener closed after the drain delay, the requests in
// flight finished within the timeout. A second signal cuts them off.
func shutdown(service *server.Server, srv, msrv *http.Server, o serveOptions, logger *slog.Logger) error {
	force := make(chan os.Signal, 1)
	signal.Notify(force, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(force)
	service.Drain()
	logger.Info("shutting down", "in_flight", service.InFlight(),
		"drain_delay", o.drainDelay, "shutdown_timeout", o.shutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), o.drainDelay+o.shutdownTimeout)
	defer cancel()
	go func() {
		select {
		case <-force:
			logger.Warn("second signal: stopping at once")
			cancel()
		case <-ctx.Done():
		}
	}()
	if o.drainDelay > 0 {
		select {
		case <-time.After(o.drainDelay):
		case <-ctx.Done():
		}
	}
	logger.Info("not accepting connections; finishing requests in flight", "in_flight", service.InFlight())
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("shutdown: requests in flight cut off", "in_flight", service.InFlight(), "err", err)
		srv.Close()
	}
	if msrv != nil {
		// The metrics stay up until the API is down, so a scrape sees
		// the drain; they have nothing long to finish.
		mctx, mcancel := context.WithTimeout(context.Background(), time.Second)
		defer mcancel()
		if msrv.Shutdown(mctx) != nil {
			msrv.Close()
		}
	}
	logger.Info("stopped")
	return nil
}

// logger is the server's structured log on w, as --log-format,
// --log-level and --log-flush-interval say, and the function that writes
// what it still holds (see logBuffer).
func (o serveOptions) logger(w io.Writer) (*slog.Logger, func()) {
	opts := &slog.HandlerOptions{Level: slog.Level(o.logLevel)}
	var buf *logBuffer
	if o.logFlushInterval > 0 {
		buf = newLogBuffer(w, o.logFlushInterval)
		w = buf
	}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if o.logFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	if buf == nil {
		return slog.New(h), func() {}
	}
	return slog.New(flushingHandler{h, buf}), func() { _ = buf.Flush() }
}

// logFormat is --log-format: a wrong value is refused when it is set, so
// AKTUALD_LOG_FORMAT is checked as the flag is.
type logFormat string

func (f *logFormat) String() string { return string(*f) }
func (f *logFormat) Type() string   { return "format" }
func (f *logFormat) Set(v string) error {
	if v != "text" && v != "json" {
		return errors.New("the log format is text or json")
	}
	*f = logFormat(v)
	return nil
}

// logLevel is --log-level: debug, info, warn or error.
type logLevel slog.Level

func (l *logLevel) String() string { return strings.ToLower(slog.Level(*l).String()) }
func (l *logLevel) Type() string   { return "level" }
func (l *logLevel) Set(v string) error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(v)); err != nil {
		return errors.New("the log level is debug, info, warn or error")
	}
	*l = logLevel(lv)
	return nil
}

// loadTLS returns the TLS configuration for --tls-cert and --tls-key, or nil
// for plain HTTP when neither is given. The pair is read once: after renewing
// the certificate, restart the server.
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "":
		return nil, usagef("--tls-key needs --tls-cert: pass both to serve HTTPS, or neither for HTTP")
	case keyFile == "":
		return nil, usagef("--tls-cert needs --tls-key: pass both to serve HTTPS, or neither for HTTP")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, usagef("--tls-cert: cannot read the certificate: %v", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, usagef("--tls-key: cannot read the private key: %v", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, usagef("--tls-cert %s, --tls-key %s: %v; pass a PEM certificate and its PEM private key", certFile, keyFile, err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}, nil
}

// sweep gives back reservations that expired by now's time, until ctx ends.
func sweep(ctx context.Context, inst *datadir.Instance, now clock.Func, logger *slog.Logger) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		if n, err := inst.Store.ExpireReservations(ctx, now.UTC()); err != nil && ctx.Err() == nil {
			logger.Error("expiring reservations", "err", err)
		} else if n > 0 {
			logger.Info("expired reservations given back", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func newInitCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the data folder: database, keys, artifact store and trust.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			trust := inst.Dir.Path(datadir.TrustFile)
			e.print(map[string]string{"data": string(inst.Dir), "trust": trust},
				fmt.Sprintf("Data folder ready: %s\nGive clients the trust file: %s\n", inst.Dir, trust))
			return nil
		},
	}
}

// serverGCPercent is the garbage collector's target a server runs with
// unless GOGC says otherwise: its live heap is small (tens of MiB) and
// every fresh latest answer allocates its body, so at Go's default of 100
// the collector ran most of the time under load, and a seventh of an
// answer's CPU went to it (docs/benchmarks.md, "Issue 21"). At 400 the
// heap may grow to five times what is live, still a few hundred MiB at
// most.
const serverGCPercent = 400

// serverGC sets serverGCPercent, unless the operator set GOGC.
func serverGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
}
