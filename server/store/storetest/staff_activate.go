package storetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Activations made by staff: the customer they record, the ledger's actors,
// the audit event, and the idempotency key that makes one at most once.

func testActivateStaff(t *testing.T, s store.Store) {
	const cust, dist = "ЕТ Иванов", "Дистрибутор ООД"
	addDistributor(t, s, dist)
	p := staffActivation(cust, dist, 5)
	p.VAT = "BG123456789"
	out := mustActivateStaff(t, s, p)
	if !out.Created || out.Replayed || out.Added != 5 || out.Sealed != nil || !out.At.Equal(t0) {
		t.Errorf("outcome %+v", out)
	}
	wantCounts(t, "new", out.Entitlement, counts{Purchased: 5, Remaining: 5})
	c, err := s.Customer(t.Context(), cust)
	if err != nil || c.Name != cust || c.VAT != "BG123456789" || c.Distributor != dist || !c.CreatedAt.Equal(t0) {
		t.Errorf("Customer(%s) = %+v, %v", cust, c, err)
	}
	if l := lastLedgerRow(t, s, out.Entitlement.ID); l.Actor != olga.Name || l.Reason != olga.Reason || l.Kind != store.LedgerPurchase {
		t.Errorf("ledger row %+v: want a purchase by %s for %q", l, olga.Name, olga.Reason)
	}
	evs := wantActions(t, s, store.AuditQuery{Customer: cust}, "activate")
	if e := evs[0]; e.Actor != olga.Name || e.Address != olga.Address || e.Reason != olga.Reason ||
		e.EntitlementID != out.Entitlement.ID || !e.At.Equal(t0) || e.Detail == "" {
		t.Errorf("event %+v", e)
	}

	// More for the same customer; the VAT number of an existing customer
	// is kept (UpdateCustomer changes it).
	p.Updates, p.Now, p.VAT = 2, t0.Add(time.Hour), "BG999"
	out = mustActivateStaff(t, s, p)
	if out.Created {
		t.Error("created = true for an existing customer")
	}
	wantCounts(t, "added", out.Entitlement, counts{Purchased: 7, Remaining: 7})
	if c, _ := s.Customer(t.Context(), cust); c.VAT != "BG123456789" {
		t.Errorf("VAT %q after a second activation, want the first", c.VAT)
	}
	// The vendor's office (no distributor) may add to any customer; another
	// distributor may not.
	mustActivateStaff(t, s, staffActivation(cust, "", 1))
	addDistributor(t, s, "Other")
	_, err = s.ActivateStaff(t.Context(), staffActivation(cust, "Other", 1))
	wantErr(t, "another distributor's customer", err, store.ErrConflict)
	mustActivateStaff(t, s, staffActivation("Acme", "", 1))
	_, err = s.ActivateStaff(t.Context(), staffActivation("Acme", dist, 1))
	wantErr(t, "the vendor's customer, by a distributor", err, store.ErrConflict)
	_, err = s.ActivateStaff(t.Context(), staffActivation("Globex", "Nobody Ltd", 1))
	wantErr(t, "an unknown distributor", err, store.ErrNotFound)
	if _, err := s.Customer(t.Context(), "Globex"); err == nil {
		t.Error("a refused activation left its customer behind")
	}
	noActor := staffActivation("Initech", "", 1)
	noActor.Actor = store.Actor{}
	if _, err := s.ActivateStaff(t.Context(), noActor); err == nil {
		t.Error("an activation without an actor was accepted")
	}
	wantStored(t, s, proCredential(cust), counts{Purchased: 8, Remaining: 8})
	wantActions(t, s, store.AuditQuery{Customer: cust}, "activate", "activate", "activate")

	k := mustActivateStaff(t, s, classicStaffActivation(cust, dist, "HK-7001", 3))
	if !k.Created || k.Entitlement.Series != api.SeriesClassic || k.Entitlement.HWKeySerial != "HK-7001" {
		t.Errorf("classic outcome %+v", k)
	}
}

func testActivateStaffIdempotent(t *testing.T, s store.Store) {
	p := staffActivation("Acme", "", 3)
	p.IdempotencyKey, p.RequestHash, p.Sealed = "INV-1", "hash-1", []byte("sealed code")
	first := mustActivateStaff(t, s, p)
	if !first.Created || first.Replayed || !bytes.Equal(first.Sealed, p.Sealed) {
		t.Errorf("first outcome %+v", first)
	}
	mustReserve(t, s, reserveParams(proCredential("Acme"), "r-1"))

	again := p
	again.Now = t0.Add(time.Hour)
	got := mustActivateStaff(t, s, again)
	if !got.Replayed || !got.Created || got.Added != 3 || !bytes.Equal(got.Sealed, p.Sealed) ||
		!got.At.Equal(t0) || got.Entitlement.ID != first.Entitlement.ID {
		t.Errorf("replayed outcome %+v", got)
	}
	wantCounts(t, "replayed (the entitlement as it now is)", got.Entitlement, counts{Purchased: 3, Remaining: 2, Held: 1})

	other := p
	other.RequestHash, other.Updates = "hash-2", 30
	_, err := s.ActivateStaff(t.Context(), other)
	wantErr(t, "same key, other request", err, store.ErrIdempotencyMismatch)

	// A second key on the existing customer: nothing sealed is kept.
	more := staffActivation("Acme", "", 2)
	more.IdempotencyKey, more.RequestHash, more.Sealed = "INV-2", "hash-3", []byte("unused")
	for i := range 2 {
		out := mustActivateStaff(t, s, more)
		if out.Created || out.Sealed != nil || out.Replayed != (i == 1) || out.Added != 2 {
			t.Errorf("INV-2, call %d: %+v", i, out)
		}
	}
	wantStored(t, s, proCredential("Acme"), counts{Purchased: 5, Remaining: 4, Held: 1})
	wantLedgerKinds(t, s, first.Entitlement.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerPurchase)
	wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "activate", "activate")

	noHash := staffActivation("Acme", "", 1)
	noHash.IdempotencyKey = "INV-3"
	if _, err := s.ActivateStaff(t.Context(), noHash); err == nil {
		t.Error("an idempotency key without a request hash was accepted")
	}
}

// testActivateStaffConcurrentSameKey: a form posted many times at once
// (double clicks, a retrying proxy) activates once; every post is answered
// with that activation.
func testActivateStaffConcurrentSameKey(t *testing.T, s store.Store) {
	const n = 12
	p := staffActivation("Acme", "", 4)
	p.IdempotencyKey, p.RequestHash = "INV-7", "hash-7"
	outs := make([]store.ActivateOutcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { outs[i], errs[i] = s.ActivateStaff(t.Context(), p) })
	}
	wg.Wait()
	firsts := 0
	for i, out := range outs {
		if errs[i] != nil {
			t.Fatalf("post %d: %v", i, errs[i])
		}
		if !out.Replayed {
			firsts++
		}
		if out.Entitlement.ID != outs[0].Entitlement.ID || !out.Created || out.Added != 4 {
			t.Errorf("post %d: %+v", i, out)
		}
	}
	if firsts != 1 {
		t.Errorf("%d posts activated, want 1", firsts)
	}
	wantStored(t, s, proCredential("Acme"), counts{Purchased: 4, Remaining: 4})
	wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "activate")
}

// testLedgerActors: every ledger row says who made it.
func testLedgerActors(t *testing.T, s store.Store) {
	e, c := activatePro(t, s, "Acme", 3) // the shell, naming no one
	if _, _, err := s.Activate(t.Context(), store.ActivateParams{Customer: "Acme", Series: api.SeriesPro, Updates: 1, Now: t0,
		Actor: store.Actor{Name: "local:root", Reason: "paid by phone"}}); err != nil {
		t.Fatal(err)
	}
	a, _ := mustReserve(t, s, reserveParams(c, "a"))
	b, _ := mustReserve(t, s, reserveParams(c, "b"))
	if _, _, err := s.Complete(t.Context(), a.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Complete(t.Context(), b.ID, t0.Add(ttl)); err != nil { // late: retakes
		t.Fatal(err)
	}
	if _, err := s.Correct(t.Context(), e.ID, -1, olga); err != nil {
		t.Fatal(err)
	}
	type row struct{ kind, actor, reason string }
	want := []row{
		{store.LedgerPurchase, store.ActorLocal, ""}, {store.LedgerPurchase, "local:root", "paid by phone"},
		{store.LedgerReserve, store.ActorInstaller, ""}, {store.LedgerReserve, store.ActorInstaller, ""},
		{store.LedgerComplete, store.ActorInstaller, ""}, {store.LedgerExpire, store.ActorExpiry, ""},
		{store.LedgerRetake, store.ActorInstaller, ""}, {store.LedgerCorrection, olga.Name, olga.Reason},
	}
	l, err := s.Ledger(t.Context(), e.ID)
	if err != nil || len(l) != len(want) {
		t.Fatalf("Ledger = %d rows, %v; want %d", len(l), err, len(want))
	}
	for i, x := range l {
		if got := (row{x.Kind, x.Actor, x.Reason}); got != want[i] {
			t.Errorf("ledger row %d = %+v, want %+v", i, got, want[i])
		}
	}
}
