package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

func testConcurrentReserve(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 5)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, errs[i] = s.Reserve(t.Context(), reserveParams(c, fmt.Sprintf("key-%d", i)))
		})
	}
	wg.Wait()
	ok, exhausted := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrExhausted):
			exhausted++
		default:
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if ok != 5 || exhausted != n-5 {
		t.Errorf("%d reserved and %d exhausted, want 5 and %d", ok, exhausted, n-5)
	}
	wantStored(t, s, c, counts{Purchased: 5, Held: 5})
	RequireClean(t, s)
}

func testConcurrentReserveSameKey(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 5)
	const n = 10
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, _, err := s.Reserve(t.Context(), reserveParams(c, "double-click"))
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
			ids[i] = r.ID
		})
	}
	wg.Wait()
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("goroutine %d got reservation %q, goroutine 0 %q", i, id, ids[0])
		}
	}
	wantStored(t, s, c, counts{Purchased: 5, Remaining: 4, Held: 1})
}

func testConcurrentComplete(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 3)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			done, _, err := s.Complete(t.Context(), r.ID, t0.Add(time.Minute))
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			} else if done.State != api.StateConsumed {
				t.Errorf("goroutine %d: state %q", i, done.State)
			}
		})
	}
	wg.Wait()
	wantStored(t, s, c, counts{Purchased: 3, Remaining: 2, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerComplete)
	RequireClean(t, s)
}

// testSweepRacesCompletion runs the expiry sweep while clients complete:
// whichever wins, each update ends consumed exactly once.
func testSweepRacesCompletion(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 10)
	var ids []string
	for i := range 5 {
		r, _ := mustReserve(t, s, reserveParams(c, fmt.Sprintf("key-%d", i)))
		ids = append(ids, r.ID)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil {
			t.Errorf("ExpireReservations: %v", err)
		}
	})
	for _, id := range ids {
		wg.Go(func() {
			if _, _, err := s.Complete(t.Context(), id, t0.Add(ttl)); err != nil {
				t.Errorf("Complete(%s): %v", id, err)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		wantState(t, s, id, api.StateConsumed)
	}
	wantStored(t, s, c, counts{Purchased: 10, Remaining: 5, Consumed: 5})
}
