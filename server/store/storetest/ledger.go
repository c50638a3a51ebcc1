package storetest

import (
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// testLedger checks each row's deltas, reservation and time, not only its
// kind.
func testLedger(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 3)
	a, _ := mustReserve(t, s, reserveParams(c, "a"))
	b, _ := mustReserve(t, s, reserveParams(c, "b"))
	cr, _ := mustReserve(t, s, reserveParams(c, "c"))
	swept := t0.Add(ttl + time.Minute)
	steps := []func() error{
		func() error { _, _, err := s.Complete(t.Context(), a.ID, t0.Add(1*time.Minute)); return err },
		func() error { _, _, err := s.Release(t.Context(), b.ID, t0.Add(2*time.Minute)); return err },
		func() error { _, err := s.ExpireReservations(t.Context(), swept); return err },
		func() error { _, _, err := s.Complete(t.Context(), cr.ID, swept.Add(time.Minute)); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// A second completion moves nothing and writes no row.
	if _, _, err := s.Complete(t.Context(), a.ID, t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}

	type row struct {
		res, kind     string
		p, r, h, c, o int64
		at            time.Time
	}
	want := []row{
		{"", store.LedgerPurchase, 3, 3, 0, 0, 0, t0},
		{a.ID, store.LedgerReserve, 0, -1, 1, 0, 0, t0},
		{b.ID, store.LedgerReserve, 0, -1, 1, 0, 0, t0},
		{cr.ID, store.LedgerReserve, 0, -1, 1, 0, 0, t0},
		{a.ID, store.LedgerComplete, 0, 0, -1, 1, 0, t0.Add(1 * time.Minute)},
		{b.ID, store.LedgerRelease, 0, 1, -1, 0, 0, t0.Add(2 * time.Minute)},
		{cr.ID, store.LedgerExpire, 0, 1, -1, 0, 0, swept},
		{cr.ID, store.LedgerRetake, 0, -1, 0, 1, 0, swept.Add(time.Minute)},
	}
	l, err := s.Ledger(t.Context(), ent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != len(want) {
		t.Fatalf("%d ledger rows, want %d: %+v", len(l), len(want), l)
	}
	for i, x := range l {
		got := row{x.ReservationID, x.Kind, x.DeltaPurchased, x.DeltaRemaining, x.DeltaHeld, x.DeltaConsumed, x.DeltaOverdraft, x.At}
		if got.at.Equal(want[i].at) {
			got.at = want[i].at
		}
		if got != want[i] || x.EntitlementID != ent.ID {
			t.Errorf("ledger row %d = %+v (entitlement %d), want %+v", i, got, x.EntitlementID, want[i])
		}
		if i > 0 && x.ID <= l[i-1].ID {
			t.Errorf("ledger row %d has ID %d after %d: not oldest first", i, x.ID, l[i-1].ID)
		}
	}
	if l, err := s.Ledger(t.Context(), ent.ID+1000); err != nil || len(l) != 0 {
		t.Errorf("Ledger(unknown entitlement) = %v, %v; want empty", l, err)
	}
}

func testTimesAreUTC(t *testing.T, s store.Store) {
	paris := time.FixedZone("CET", 3600)
	e, _, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: "Acme", Series: api.SeriesPro, Credential: proCredential("Acme"), Updates: 1, Now: t0.In(paris),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := reserveParams(proCredential("Acme"), "key-1")
	p.Now = t0.In(paris)
	r, _ := mustReserve(t, s, p)
	stored, err := s.Reservation(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]time.Time{
		"entitlement created": e.CreatedAt, "reservation created": stored.CreatedAt, "reservation expires": stored.ExpiresAt,
	} {
		if tm.Location() != time.UTC {
			t.Errorf("%s in %v, want UTC", name, tm.Location())
		}
	}
	if !stored.CreatedAt.Equal(t0) || !stored.ExpiresAt.Equal(t0.Add(ttl)) {
		t.Errorf("stored times %v, %v; want %v, %v", stored.CreatedAt, stored.ExpiresAt, t0, t0.Add(ttl))
	}
}
