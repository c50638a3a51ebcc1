package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// RunReplicas races two store instances on one database, as two aktuald
// replicas behind a load balancer are: separate pools (separate processes,
// as far as the database can tell), so nothing in Go serialises them and
// only the database's transactions keep the promise. open must return two
// stores on the same new, empty database on each call and close them with
// t.Cleanup.
func RunReplicas(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"ReserveAndCompleteRace", testReplicasReserveAndComplete},
		{"SweepRacesCompletion", testReplicasSweep},
		{"SessionYieldsOneReservation", testReplicasSession},
		{"ActivateNewCustomer", testReplicasActivate},
		{"PublishSameRelease", testReplicasPublish},
		{"ThrottleHits", testReplicasThrottle},
		{"ActivateStaffSameKey", testReplicasActivateStaff},
		{"DisabledAccount", testReplicasDisabledAccount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			t.Cleanup(func() {
				RequireClean(t, a)
				RequireClean(t, b)
			})
			tc.fn(t, a, b)
		})
	}
}

// testReplicasReserveAndComplete: goroutines ask for twice as many updates
// as were bought. Each key is sent to both replicas at once (a client
// retrying through the load balancer while its first request is still in
// flight) and must get one reservation from both; each reservation is then
// completed on both at once. Exactly the bought units end consumed.
func testReplicasReserveAndComplete(t *testing.T, a, b store.Store) {
	const (
		units   = 100       // bought
		keys    = 2 * units // asked for
		workers = 16        // goroutines taking keys; each sends a key to both replicas
	)
	ent, c := activatePro(t, a, "Acme", units)
	replicas := [2]store.Store{a, b}

	var (
		next     atomic.Int64
		reserved atomic.Int64
		refused  atomic.Int64
		calls    atomic.Int64
		mu       sync.Mutex
		ids      = map[string]string{} // reservation ID → key
	)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= keys {
					return
				}
				key := fmt.Sprintf("key-%d", i)
				id, err := reserveOnBoth(t, replicas, c, key)
				calls.Add(2)
				if errors.Is(err, store.ErrExhausted) {
					refused.Add(1)
					continue
				} else if err != nil {
					t.Error(err)
					continue
				}
				reserved.Add(1)
				mu.Lock()
				if prior, dup := ids[id]; dup {
					t.Errorf("reservation %s given for %s and %s", id, prior, key)
				}
				ids[id] = key
				mu.Unlock()
				completeOnBoth(t, replicas, id)
				calls.Add(2)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	if reserved.Load() != units || refused.Load() != keys-units {
		t.Errorf("%d keys reserved and %d refused as exhausted; want %d and %d", reserved.Load(), refused.Load(), units, keys-units)
	}
	for _, s := range replicas {
		wantStored(t, s, c, counts{Purchased: units, Consumed: units})
	}
	kinds := ledgerKinds(t, b, ent.ID)
	n := map[string]int{}
	for _, k := range kinds {
		n[k]++
	}
	if len(kinds) != 1+2*units || n[store.LedgerPurchase] != 1 || n[store.LedgerReserve] != units || n[store.LedgerComplete] != units {
		t.Errorf("ledger has %d rows %v; want 1 purchase, %d reserve, %d complete", len(kinds), n, units, units)
	}
	t.Logf("%d goroutines (each key sent to both replicas at once), %d units, %d keys: %d store calls in %v; %.0f reservations/s, %.0f calls/s",
		2*workers, units, keys, calls.Load(), elapsed.Round(time.Millisecond),
		float64(reserved.Load())/elapsed.Seconds(), float64(calls.Load())/elapsed.Seconds())
}

// reserveOnBoth sends the same reservation to both replicas at once: it
// returns the one reservation both gave, or store.ErrExhausted when both
// refused for want of units.
func reserveOnBoth(t *testing.T, replicas [2]store.Store, c store.Credential, key string) (string, error) {
	var (
		rs   [2]store.Reservation
		errs [2]error
		both sync.WaitGroup
	)
	for j, s := range replicas {
		both.Go(func() { rs[j], _, errs[j] = s.Reserve(t.Context(), reserveParams(c, key)) })
	}
	both.Wait()
	switch {
	case errors.Is(errs[0], store.ErrExhausted) && errors.Is(errs[1], store.ErrExhausted):
		return "", errs[0]
	case errs[0] != nil || errs[1] != nil:
		return "", fmt.Errorf("%s on both replicas: %v; %v", key, errs[0], errs[1])
	case rs[0].ID != rs[1].ID:
		return "", fmt.Errorf("%s: replica a reserved %s, replica b %s", key, rs[0].ID, rs[1].ID)
	}
	return rs[0].ID, nil
}

// completeOnBoth completes reservation id on both replicas at once; both
// must answer consumed.
func completeOnBoth(t *testing.T, replicas [2]store.Store, id string) {
	var both sync.WaitGroup
	for j, s := range replicas {
		both.Go(func() {
			done, _, err := s.Complete(t.Context(), id, t0.Add(time.Minute))
			if err != nil || done.State != api.StateConsumed {
				t.Errorf("Complete(%s) on replica %d: %s, %v", id, j, done.State, err)
			}
		})
	}
	both.Wait()
}

// testReplicasSweep: both replicas run the expiry sweep while clients
// complete through both; each update ends consumed exactly once.
func testReplicasSweep(t *testing.T, a, b store.Store) {
	const n = 20
	_, c := activatePro(t, a, "Acme", 2*n)
	var ids []string
	for i := range n {
		r, _ := mustReserve(t, []store.Store{a, b}[i%2], reserveParams(c, fmt.Sprintf("key-%d", i)))
		ids = append(ids, r.ID)
	}
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b} {
		wg.Go(func() {
			if _, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil {
				t.Errorf("ExpireReservations: %v", err)
			}
		})
	}
	for i, id := range ids {
		wg.Go(func() {
			if _, _, err := []store.Store{a, b}[i%2].Complete(t.Context(), id, t0.Add(ttl)); err != nil {
				t.Errorf("Complete(%s): %v", id, err)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		wantState(t, b, id, api.StateConsumed)
	}
	wantStored(t, a, c, counts{Purchased: 2 * n, Remaining: n, Consumed: n})
}

// testReplicasSession: a classic session used through both replicas at
// once yields one reservation.
func testReplicasSession(t *testing.T, a, b store.Store) {
	if _, _, err := activateClassic(t, a, "Acme", "HK-R", 5); err != nil {
		t.Fatal(err)
	}
	newSession(t, b, "s_replicas", "HK-R")
	results := make([]error, 10)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			_, _, results[i] = []store.Store{a, b}[i%2].Reserve(t.Context(), classicReserve("HK-R", fmt.Sprintf("k%d", i), "s_replicas"))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		if err == nil {
			ok++
		} else {
			wantErr(t, "another reservation on a used session", err, store.ErrSessionUsed)
		}
	}
	if ok != 1 {
		t.Errorf("%d reservations from one session, want 1", ok)
	}
	wantStored(t, a, store.Credential{HWKeySerial: "HK-R"}, counts{Purchased: 5, Remaining: 4, Held: 1})
}

// testReplicasActivate: staff activating a new customer on both replicas
// at once make one entitlement with both purchases, not a conflict.
func testReplicasActivate(t *testing.T, a, b store.Store) {
	const n = 8
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			_, created[i], err = []store.Store{a, b}[i%2].Activate(t.Context(), store.ActivateParams{
				Customer: "Acme", Series: api.SeriesPro, Credential: proCredential("Acme"), Updates: 1, Now: t0,
			})
			if err != nil {
				t.Errorf("Activate %d: %v", i, err)
			}
			_, _, err = activateClassic(t, []store.Store{a, b}[(i+1)%2], "Acme", "HK-A", 1)
			if err != nil {
				t.Errorf("Activate classic %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if c := countTrue(created); c != 1 {
		t.Errorf("%d activations say they created the entitlement, want 1", c)
	}
	wantStored(t, b, proCredential("Acme"), counts{Purchased: n, Remaining: n})
	wantStored(t, a, store.Credential{HWKeySerial: "HK-A"}, counts{Purchased: n, Remaining: n})
	if all, err := a.Entitlements(t.Context()); err != nil || len(all) != 2 {
		t.Errorf("%d entitlements, %v; want 2", len(all), err)
	}
}

// testReplicasPublish: the same release published through both replicas at
// once is one release; another artifact under its version is a conflict.
func testReplicasPublish(t *testing.T, a, b store.Store) {
	r := release("2.0.0", "linux", "amd64", sum("replicas"))
	other := release("2.0.0", "linux", "amd64", sum("replicas, other"))
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			put := r
			if i == len(errs)-1 {
				put = other
			}
			errs[i] = []store.Store{a, b}[i%2].PutRelease(t.Context(), put)
		})
	}
	wg.Wait()
	// The odd one out wins or loses the race: either it is refused, or it
	// went first and all the others are.
	refused := 0
	for _, err := range errs {
		if err != nil {
			wantErr(t, "publishing other contents", err, store.ErrConflict)
			refused++
		}
	}
	if refused != 1 && refused != len(errs)-1 {
		t.Errorf("%d of %d publications refused: %v", refused, len(errs), errs)
	}
	if rs, err := b.Releases(t.Context(), product, "linux", "amd64"); err != nil || len(rs) != 1 {
		t.Errorf("Releases = %d, %v; want 1", len(rs), err)
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
