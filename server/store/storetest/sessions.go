package storetest

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

const classicProduct = "abacus"

func newSession(t *testing.T, s store.Store, id, serial string) store.ClassicSession {
	t.Helper()
	h := sha256.Sum256([]byte("challenge " + id))
	cs := store.ClassicSession{
		ID: id, Serial: serial, Product: classicProduct, FromVersion: "1.0.0", ToVersion: "2.0.0",
		MachineID: "m1", ChallengeHash: h[:], CreatedAt: t0, ExpiresAt: t0.Add(15 * 60e9),
	}
	if err := s.CreateSession(t.Context(), cs); err != nil {
		t.Fatalf("CreateSession(%s): %v", id, err)
	}
	return cs
}

func classicReserve(serial, key, session string) store.ReserveParams {
	return store.ReserveParams{
		IdempotencyKey: key, Credential: store.Credential{HWKeySerial: serial}, Series: api.SeriesClassic,
		Product: classicProduct, FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "m1", Now: t0, TTL: ttl,
		SessionID: session,
	}
}

func testSessionLifecycle(t *testing.T, s store.Store) {
	want := newSession(t, s, "s_life", "HK-1")
	got, err := s.Session(t.Context(), "s_life")
	if err != nil || got.State != api.SessionOpen || got.Serial != "HK-1" || got.Attempts != 0 ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || got.ReservationID != "" {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	if _, err := s.Session(t.Context(), "s_none"); err == nil {
		t.Fatal("unknown session found")
	}
	for range 2 { // idempotent
		if cs, err := s.ConfirmSession(t.Context(), "s_life"); err != nil || cs.State != api.SessionConfirmed {
			t.Fatalf("ConfirmSession = %+v, %v", cs, err)
		}
	}
	if _, _, err := activateClassic(t, s, "Acme", "HK-1", 2); err != nil {
		t.Fatal(err)
	}
	r, _ := mustReserve(t, s, classicReserve("HK-1", "k1", "s_life"))
	got, _ = s.Session(t.Context(), "s_life")
	if got.State != api.SessionUsed || got.ReservationID != r.ID {
		t.Fatalf("after reserve: %+v", got)
	}
	_, err = s.ConfirmSession(t.Context(), "s_life")
	wantErr(t, "confirm a used session", err, store.ErrSessionUsed)
}

// One session, one reservation, whatever the races: a repeat with the same
// idempotency key gets the same reservation; another key is refused and
// holds nothing.
func testSessionYieldsOneReservation(t *testing.T, s store.Store) {
	if _, _, err := activateClassic(t, s, "Acme", "HK-2", 5); err != nil {
		t.Fatal(err)
	}
	newSession(t, s, "s_one", "HK-2")
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, results[i] = s.Reserve(t.Context(), classicReserve("HK-2", fmt.Sprintf("k%d", i), "s_one"))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		if err == nil {
			ok++
		} else {
			wantErr(t, "second reservation on a session", err, store.ErrSessionUsed)
		}
	}
	if ok != 1 {
		t.Fatalf("%d reservations from one session, want 1", ok)
	}
	cs, _ := s.Session(t.Context(), "s_one")
	r, err := s.Reservation(t.Context(), cs.ReservationID)
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := s.Reserve(t.Context(), classicReserve("HK-2", r.IdempotencyKey, "s_one"))
	if err != nil || again.ID != r.ID {
		t.Fatalf("idempotent repeat = %+v, %v", again, err)
	}
	wantStored(t, s, store.Credential{HWKeySerial: "HK-2"}, counts{Purchased: 5, Remaining: 4, Held: 1})
}

func testSessionAttemptsLock(t *testing.T, s store.Store) {
	newSession(t, s, "s_lock", "HK-3")
	for i := 1; i <= 3; i++ {
		cs, err := s.FailSessionAttempt(t.Context(), "s_lock", 3)
		if err != nil || cs.Attempts != i {
			t.Fatalf("attempt %d: %+v, %v", i, cs, err)
		}
		if want := map[bool]string{true: api.SessionLocked, false: api.SessionOpen}[i == 3]; cs.State != want {
			t.Fatalf("after %d attempts state %s, want %s", i, cs.State, want)
		}
	}
	if _, _, err := activateClassic(t, s, "Acme", "HK-3", 1); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Reserve(t.Context(), classicReserve("HK-3", "k", "s_lock"))
	wantErr(t, "reserve on a locked session", err, store.ErrSessionUsed)
	wantStored(t, s, store.Credential{HWKeySerial: "HK-3"}, counts{Purchased: 1, Remaining: 1})
}

func testSessionChallengeSingleUse(t *testing.T, s store.Store) {
	cs := newSession(t, s, "s_a", "HK-4")
	cs.ID = "s_b"
	wantErr(t, "a second session from one challenge", s.CreateSession(t.Context(), cs), store.ErrConflict)
}
