package storetest

import (
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

func testReserveHappyPath(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 3)
	p := reserveParams(c, "key-1")
	r, e := mustReserve(t, s, p)
	wantCounts(t, "returned", e, counts{Purchased: 3, Remaining: 2, Held: 1})
	wantStored(t, s, c, counts{Purchased: 3, Remaining: 2, Held: 1})
	if r.ID == "" || r.IdempotencyKey != "key-1" || r.EntitlementID != ent.ID || r.Product != product ||
		r.FromVersion != "1.0.0" || r.ToVersion != "2.0.0" || r.MachineID != "m1" || r.State != api.StateHeld {
		t.Errorf("reservation %+v", r)
	}
	if !r.CreatedAt.Equal(t0) || !r.UpdatedAt.Equal(t0) || !r.ExpiresAt.Equal(t0.Add(ttl)) {
		t.Errorf("times created %v updated %v expires %v; want %v, %v, %v", r.CreatedAt, r.UpdatedAt, r.ExpiresAt, t0, t0, t0.Add(ttl))
	}
	stored, err := s.Reservation(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameReservation(stored, r) {
		t.Errorf("stored %+v, returned %+v", stored, r)
	}
	r2, _ := mustReserve(t, s, reserveParams(c, "key-2"))
	if r2.ID == r.ID {
		t.Error("two reservations share an ID")
	}
}

func sameReservation(a, b store.Reservation) bool {
	return a.ID == b.ID && a.IdempotencyKey == b.IdempotencyKey && a.EntitlementID == b.EntitlementID &&
		a.Product == b.Product && a.FromVersion == b.FromVersion && a.ToVersion == b.ToVersion &&
		a.MachineID == b.MachineID && a.State == b.State && a.CreatedAt.Equal(b.CreatedAt) &&
		a.UpdatedAt.Equal(b.UpdatedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func testReserveErrors(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 1)
	classic, _, err := activateClassic(t, s, "Acme", "HK-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	hw := store.Credential{HWKeySerial: "HK-1"}

	_, _, err = s.Reserve(t.Context(), reserveParams(proCredential("nobody"), "unknown"))
	wantErr(t, "unknown code", err, store.ErrUnknownCredential)
	_, _, err = s.Reserve(t.Context(), reserveParams(store.Credential{HWKeySerial: "HK-404"}, "unknown-key"))
	wantErr(t, "unknown serial", err, store.ErrUnknownCredential)

	_, _, err = s.Reserve(t.Context(), reserveParams(hw, "classic-for-pro"))
	wantErr(t, "classic credential for a Pro product", err, store.ErrWrongSeries)
	p := reserveParams(c, "pro-for-classic")
	p.Series, p.Product = api.SeriesClassic, "ledgerbook"
	_, _, err = s.Reserve(t.Context(), p)
	wantErr(t, "Pro credential for a classic product", err, store.ErrWrongSeries)

	mustReserve(t, s, reserveParams(c, "last"))
	_, _, err = s.Reserve(t.Context(), reserveParams(c, "one-too-many"))
	wantErr(t, "exhausted", err, store.ErrExhausted)
	wantStored(t, s, c, counts{Purchased: 1, Held: 1})

	// The series is checked before the count.
	p = reserveParams(hw, "classic")
	p.Series, p.Product = api.SeriesClassic, "ledgerbook"
	mustReserve(t, s, p)
	_, _, err = s.Reserve(t.Context(), reserveParams(hw, "exhausted-and-wrong-series"))
	wantErr(t, "exhausted and wrong series", err, store.ErrWrongSeries)

	// A refused key is not spent: it works once the reason is gone.
	if _, _, err := activateClassic(t, s, "Acme", "HK-1", 1); err != nil {
		t.Fatal(err)
	}
	p.IdempotencyKey = "one-too-many"
	_, _, err = s.Reserve(t.Context(), reserveParams(c, "one-too-many"))
	wantErr(t, "still exhausted", err, store.ErrExhausted)
	p = reserveParams(hw, "one-too-many")
	p.Series, p.Product = api.SeriesClassic, "ledgerbook"
	r, e := mustReserve(t, s, p)
	if e.ID != classic.ID || r.State != api.StateHeld {
		t.Errorf("reserve with a once-refused key: %+v, %+v", r, e)
	}
	// There is no API to deactivate a credential, so ErrInactive is not
	// exercised here; backends test it with their own means.
}

func testReserveIdempotent(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 1)
	p := reserveParams(c, "key-1")
	first, _ := mustReserve(t, s, p)

	// A repeat, later and with another TTL, returns the first answer.
	p.Now, p.TTL = t0.Add(time.Minute), time.Hour
	again, e := mustReserve(t, s, p)
	if !sameReservation(again, first) {
		t.Errorf("repeat returned %+v, want %+v", again, first)
	}
	wantCounts(t, "repeat", e, counts{Purchased: 1, Held: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve)

	// Also once the entitlement is exhausted and the reservation consumed.
	if _, _, err := s.Complete(t.Context(), first.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	again, e = mustReserve(t, s, p)
	if again.ID != first.ID || again.State != api.StateConsumed {
		t.Errorf("repeat after completion: %s %s, want %s consumed", again.ID, again.State, first.ID)
	}
	wantCounts(t, "repeat after completion", e, counts{Purchased: 1, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerComplete)
}

func testReserveIdempotencyMismatch(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 5)
	_, other := activatePro(t, s, "Globex", 5)
	base := reserveParams(c, "key-1")
	first, _ := mustReserve(t, s, base)

	for name, change := range map[string]func(*store.ReserveParams){
		"credential":         func(p *store.ReserveParams) { p.Credential = other },
		"unknown credential": func(p *store.ReserveParams) { p.Credential = proCredential("nobody") },
		"product":            func(p *store.ReserveParams) { p.Product = "other" },
		"from version":       func(p *store.ReserveParams) { p.FromVersion = "1.0.1" },
		"to version":         func(p *store.ReserveParams) { p.ToVersion = "2.0.1" },
		"machine":            func(p *store.ReserveParams) { p.MachineID = "m2" },
	} {
		p := base
		change(&p)
		_, _, err := s.Reserve(t.Context(), p)
		wantErr(t, "other "+name, err, store.ErrIdempotencyMismatch)
	}
	wantStored(t, s, c, counts{Purchased: 5, Remaining: 4, Held: 1})
	wantStored(t, s, other, counts{Purchased: 5, Remaining: 5})
	wantState(t, s, first.ID, api.StateHeld)
}
