package postgres

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aktual/aktual/internal/pgtest"
)

// TestRoundTrips: what one update costs in round trips to PostgreSQL, each
// of which costs CPU in pgx and in a backend (docs/benchmarks.md). The
// figures are exact: a change that adds a round trip fails here, and one
// that saves one should lower them.
func TestRoundTrips(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	var trips roundTrips
	cfg.ConnConfig.DialFunc = trips.dial
	cfg.MaxConns = 1 // so that the first round prepares every statement the second uses
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	s, err := openConfig(t.Context(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, c := activate(t, s, "Acme", 10)
	publish(t, s, "studio")

	var id string
	steps := []struct {
		name string
		want int64
		do   func(key string) error
	}{
		// The server remembers the answer (server.Server.series): asked
		// once per product, not per reserve.
		{"product series", 1, func(string) error {
			_, err := s.ProductSeries(t.Context(), "studio")
			return err
		}},
		{"reserve", 1, func(key string) error {
			r, _, err := s.Reserve(t.Context(), reserve(c, key))
			id = r.ID
			return err
		}},
		{"complete", 1, func(string) error {
			_, _, err := s.Complete(t.Context(), id, t0.Add(time.Minute))
			return err
		}},
	}
	for round, key := range []string{"prepares", "counted"} {
		for _, step := range steps {
			before := trips.n.Load()
			if err := step.do(key); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if n := trips.n.Load() - before; round == 1 && n != step.want {
				t.Errorf("%s: %d round trips, want %d", step.name, n, step.want)
			}
		}
	}
}

// roundTrips counts the round trips on the connections it dials: a read
// that follows a write is the client waiting for an answer.
type roundTrips struct{ n atomic.Int64 }

func (rt *roundTrips) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, trips: rt}, nil
}

type countingConn struct {
	net.Conn
	trips *roundTrips
	wrote atomic.Bool // since the last read
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.wrote.Store(true)
	return c.Conn.Write(b)
}

func (c *countingConn) Read(b []byte) (int, error) {
	if c.wrote.Swap(false) {
		c.trips.n.Add(1)
	}
	return c.Conn.Read(b)
}
