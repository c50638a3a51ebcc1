package storetest

import (
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Completing, releasing and expiring reservations.

func testComplete(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	done, e, err := s.Complete(t.Context(), r.ID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if done.ID != r.ID || done.State != api.StateConsumed || !done.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("completed %+v", done)
	}
	wantCounts(t, "completed", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})

	again, e, err := s.Complete(t.Context(), r.ID, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("second Complete: %v", err)
	}
	if !sameReservation(again, done) {
		t.Errorf("second Complete returned %+v, want %+v", again, done)
	}
	wantCounts(t, "completed twice", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerComplete)
}

func testRelease(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	rel, e, err := s.Release(t.Context(), r.ID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rel.State != api.StateReleased {
		t.Errorf("state %q, want released", rel.State)
	}
	wantCounts(t, "released", e, counts{Purchased: 2, Remaining: 2})
	again, e, err := s.Release(t.Context(), r.ID, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if !sameReservation(again, rel) {
		t.Errorf("second Release returned %+v, want %+v", again, rel)
	}
	wantCounts(t, "released twice", e, counts{Purchased: 2, Remaining: 2})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerRelease)
}

func testReleaseAfterComplete(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	if _, _, err := s.Complete(t.Context(), r.ID, t0); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Release(t.Context(), r.ID, t0)
	wantErr(t, "release after complete", err, store.ErrConflict)
	wantState(t, s, r.ID, api.StateConsumed)
	wantStored(t, s, c, counts{Purchased: 2, Remaining: 1, Consumed: 1})
}

func testUnknownReservation(t *testing.T, s store.Store) {
	activatePro(t, s, "Acme", 1)
	const id = "r_doesnotexist"
	_, err := s.Reservation(t.Context(), id)
	wantErr(t, "Reservation", err, store.ErrNotFound)
	_, _, err = s.Complete(t.Context(), id, t0)
	wantErr(t, "Complete", err, store.ErrNotFound)
	_, _, err = s.Release(t.Context(), id, t0)
	wantErr(t, "Release", err, store.ErrNotFound)
}

func testExpireSweep(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 3)
	p := reserveParams(c, "short")
	p.TTL = time.Hour
	short, _ := mustReserve(t, s, p)
	long, _ := mustReserve(t, s, reserveParams(c, "long"))
	done, _ := mustReserve(t, s, reserveParams(c, "done"))
	if _, _, err := s.Complete(t.Context(), done.ID, t0); err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		at   time.Time
		want int
	}{
		{t0.Add(time.Hour - time.Nanosecond), 0},
		{t0.Add(time.Hour), 1}, // ExpiresAt <= now
		{t0.Add(2 * time.Hour), 0},
	} {
		n, err := s.ExpireReservations(t.Context(), step.at)
		if err != nil {
			t.Fatal(err)
		}
		if n != step.want {
			t.Errorf("ExpireReservations(t0+%v) = %d, want %d", step.at.Sub(t0), n, step.want)
		}
	}
	wantState(t, s, short.ID, api.StateExpired)
	wantState(t, s, long.ID, api.StateHeld)
	wantState(t, s, done.ID, api.StateConsumed)
	wantStored(t, s, c, counts{Purchased: 3, Remaining: 1, Held: 1, Consumed: 1})

	// Releasing an expired reservation is a no-op that says so.
	r, e, err := s.Release(t.Context(), short.ID, t0.Add(3*time.Hour))
	if err != nil || r.State != api.StateExpired {
		t.Errorf("Release(expired) = %q, %v; want expired, nil", r.State, err)
	}
	wantCounts(t, "release after expiry", e, counts{Purchased: 3, Remaining: 1, Held: 1, Consumed: 1})

	if n, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil || n != 1 {
		t.Errorf("ExpireReservations(t0+ttl) = %d, %v; want 1", n, err)
	}
	wantStored(t, s, c, counts{Purchased: 3, Remaining: 2, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerReserve, store.LedgerReserve,
		store.LedgerComplete, store.LedgerExpire, store.LedgerExpire)
}

func testCompleteAfterExpiryRetakes(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	if _, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil {
		t.Fatal(err)
	}
	wantStored(t, s, c, counts{Purchased: 2, Remaining: 2})
	done, e, err := s.Complete(t.Context(), r.ID, t0.Add(ttl+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if done.State != api.StateConsumed {
		t.Errorf("late completion left state %q", done.State)
	}
	wantCounts(t, "late completion", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})
	// And it is idempotent like any other.
	if _, e, err = s.Complete(t.Context(), r.ID, t0.Add(ttl+2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "late completion repeated", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerExpire, store.LedgerRetake)
}

// A reservation the client gave back said "never applied": a completion
// for it afterwards is a contradiction, refused rather than charged.
func testCompleteAfterReleaseRefused(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 1)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	if _, _, err := s.Release(t.Context(), r.ID, t0); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Complete(t.Context(), r.ID, t0.Add(time.Minute))
	wantErr(t, "completion after release", err, store.ErrConflict)
	wantStored(t, s, c, counts{Purchased: 1, Remaining: 1})
	wantState(t, s, r.ID, api.StateReleased)
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerRelease)
}

func testCompleteAfterExpiryOverdraft(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 1)
	late, _ := mustReserve(t, s, reserveParams(c, "late"))
	if _, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil {
		t.Fatal(err)
	}
	p := reserveParams(c, "next")
	p.Now = t0.Add(ttl)
	next, _ := mustReserve(t, s, p) // takes the unit back

	done, e, err := s.Complete(t.Context(), late.ID, t0.Add(ttl+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if done.State != api.StateConsumed {
		t.Errorf("overdrawn completion left state %q", done.State)
	}
	// Overdraft is recorded apart: no purchased unit was consumed.
	wantCounts(t, "overdraft", e, counts{Purchased: 1, Held: 1, Overdraft: 1})
	if _, e, err = s.Complete(t.Context(), late.ID, t0.Add(ttl+2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "overdraft repeated", e, counts{Purchased: 1, Held: 1, Overdraft: 1})

	if _, e, err = s.Complete(t.Context(), next.ID, t0.Add(ttl+3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "after the other completes", e, counts{Purchased: 1, Consumed: 1, Overdraft: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerExpire,
		store.LedgerReserve, store.LedgerOverdraft, store.LedgerComplete)
}
