package server_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/store"
)

// seriesCounter counts the store's ProductSeries lookups.
type seriesCounter struct {
	store.Store
	lookups atomic.Int64
}

func (c *seriesCounter) ProductSeries(ctx context.Context, product string) (string, error) {
	c.lookups.Add(1)
	return c.Store.ProductSeries(ctx, product)
}

// TestProductSeriesIsRemembered: a product's series is looked up once,
// since it never changes; an unknown product is asked again, so
// publishing it later is seen at once.
func TestProductSeriesIsRemembered(t *testing.T) {
	var counter *seriesCounter
	f := newFixtureWith(t, func(s *server.Server) {
		counter = &seriesCounter{Store: s.Store}
		s.Store = counter
	})
	code := f.activate(t, "Acme", 5)

	for range 2 {
		wantError(t, f.reserve(t, reserveRequest(code, "later", "key-unknown")), http.StatusNotFound, api.CodeNotFound)
	}
	// An unknown product has no published version to update to: the
	// reserve is refused before its series is asked for.
	if n := counter.lookups.Load(); n != 0 {
		t.Errorf("two reserves of an unknown product looked its series up %d times, want 0", n)
	}
	f.publish(t, "later", api.SeriesPro, "2.0.0", "linux", "amd64")
	first := f.mustReserve(t, code, "later", "key-1")
	before := counter.lookups.Load()
	f.mustReserve(t, code, "later", "key-2")
	f.mustReserve(t, code, "later", "key-1") // a repeat
	if n := counter.lookups.Load() - before; n != 0 {
		t.Errorf("reserves of a known product looked its series up %d more times, want 0", n)
	}
	decodeOK[api.ReservationResponse](t, f.complete(t, first.Reservation.ID))
	f.wantCounts(t, code, counts(5, 3, 1, 1))
}
