package cli

import (
	"context"
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
	var addr, readyFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the update API (initialises the data folder on first start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			url := "http://" + ln.Addr().String()
			srv := server.HTTPServer(addr, inst.Server(version(), logger).Handler())
			ctx := cmd.Context()
			go sweep(ctx, inst, logger)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
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
	return cmd
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
