package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/server"
)

// sweepInterval: how often expired reservations are given back.
const sweepInterval = time.Minute

func newServeCmd(e *env) *cobra.Command {
	var addr, readyFile, tlsCert, tlsKey string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the update API (initialises the data folder on first start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Checked before anything starts, so a typo never leaves a
			// half-started server.
			tlsConfig, err := loadTLS(tlsCert, tlsKey)
			if err != nil {
				return err
			}
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			logger := slog.New(slog.NewTextHandler(e.errOut, nil))
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usagef("cannot listen on %s: %v; choose another --addr", addr, err)
			}
			srv := server.HTTPServer(addr, inst.Server(version(), logger).Handler())
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
			ctx := cmd.Context()
			go sweep(ctx, inst, logger)
			errc := make(chan error, 1)
			go func() { errc <- serve() }()
			logger.Info("serving", "url", url, "data", string(inst.Dir), "trust", inst.Dir.Path(server.TrustFile))
			if readyFile != "" {
				if err := os.WriteFile(readyFile, []byte(url+"\n"), 0o644); err != nil {
					return fmt.Errorf("writing --ready-file: %w", err)
				}
			}
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			logger.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8420", "address to listen on")
	cmd.Flags().StringVar(&readyFile, "ready-file", "", "write the server's URL to this file once it accepts connections")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain); needs --tls-key")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	return cmd
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

// sweep gives back reservations that expired, until ctx ends.
func sweep(ctx context.Context, inst *server.Instance, logger *slog.Logger) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		if n, err := inst.Store.ExpireReservations(ctx, time.Now().UTC()); err != nil && ctx.Err() == nil {
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
			trust := inst.Dir.Path(server.TrustFile)
			e.print(map[string]string{"data": string(inst.Dir), "trust": trust},
				fmt.Sprintf("Data folder ready: %s\nGive clients the trust file: %s\n", inst.Dir, trust))
			return nil
		},
	}
}
