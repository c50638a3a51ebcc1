package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// The changes staff make to an entitlement: suspend and reinstate, replace
// a hardware key or reissue a code, and correct the counts.

func testSetActive(t *testing.T, s store.Store) {
	e, c := activatePro(t, s, "Acme", 2)
	off, err := s.SetActive(t.Context(), e.ID, false, olga)
	if err != nil || off.Active || off.ID != e.ID {
		t.Fatalf("SetActive(false) = %+v, %v", off, err)
	}
	wantCounts(t, "suspended", off, counts{Purchased: 2, Remaining: 2})
	_, _, err = s.Reserve(t.Context(), reserveParams(c, "k1"))
	wantErr(t, "Reserve on a suspended entitlement", err, store.ErrInactive)
	if again, err := s.SetActive(t.Context(), e.ID, false, olga); err != nil || again.Active {
		t.Errorf("SetActive(false) again = %+v, %v", again, err)
	}
	// Selling more updates does not lift the suspension.
	more, _, err := s.Activate(t.Context(), store.ActivateParams{Customer: "Acme", Series: api.SeriesPro,
		Credential: proCredential("Acme"), CodeHint: "12345", Updates: 1, Now: t0})
	if err != nil || more.Active || more.Remaining != 3 {
		t.Errorf("Activate on a suspended entitlement = %+v, %v; want 3 remaining, still suspended", more, err)
	}
	on, err := s.SetActive(t.Context(), e.ID, true, olga)
	if err != nil || !on.Active {
		t.Fatalf("SetActive(true) = %+v, %v", on, err)
	}
	mustReserve(t, s, reserveParams(c, "k2"))
	evs := wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "suspend", "reinstate")
	for _, ev := range evs {
		if ev.EntitlementID != e.ID || ev.Actor != olga.Name || ev.Address != olga.Address || ev.Reason != olga.Reason {
			t.Errorf("event %+v", ev)
		}
	}
	_, err = s.SetActive(t.Context(), e.ID+1000, false, olga)
	wantErr(t, "SetActive(unknown)", err, store.ErrNotFound)
	if _, err := s.SetActive(t.Context(), e.ID, false, store.Actor{}); err == nil {
		t.Error("SetActive without an actor was accepted")
	}
	wantLedgerKinds(t, s, e.ID, store.LedgerPurchase, store.LedgerPurchase, store.LedgerReserve)
}

// testReplaceKey: a customer's lost hardware key is replaced: the old
// serial stops working at once, its open sessions are locked, and the
// counts, the ledger and the held reservations stay.
func testReplaceKey(t *testing.T, s store.Store) {
	e, _, err := activateClassic(t, s, "Acme", "HK-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	old := store.Credential{HWKeySerial: "HK-1"}
	r, _ := mustReserve(t, s, classicReserve("HK-1", "held", ""))
	newSession(t, s, "s_old", "HK-1")

	got, err := s.ReplaceCredential(t.Context(), e.ID, store.Credential{HWKeySerial: "HK-2"}, "", olga)
	if err != nil || got.ID != e.ID || got.HWKeySerial != "HK-2" {
		t.Fatalf("ReplaceCredential = %+v, %v", got, err)
	}
	wantCounts(t, "replaced", got, counts{Purchased: 3, Remaining: 2, Held: 1})
	_, err = s.Entitlement(t.Context(), old)
	wantErr(t, "the old key", err, store.ErrUnknownCredential)
	wantStored(t, s, store.Credential{HWKeySerial: "HK-2"}, counts{Purchased: 3, Remaining: 2, Held: 1})
	if cs, err := s.Session(t.Context(), "s_old"); err != nil || cs.State != api.SessionLocked {
		t.Errorf("the old key's open session: %s, %v; want locked", cs.State, err)
	}
	if _, _, err := s.Complete(t.Context(), r.ID, t0.Add(time.Minute)); err != nil {
		t.Errorf("completing a reservation made with the old key: %v", err)
	}
	wantLedgerKinds(t, s, e.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerComplete)
	evs := wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "replace")
	if !strings.Contains(evs[0].Detail, "HK-1") || !strings.Contains(evs[0].Detail, "HK-2") || evs[0].EntitlementID != e.ID {
		t.Errorf("event %+v", evs[0])
	}

	if _, _, err := activateClassic(t, s, "Globex", "HK-3", 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.Credential{{HWKeySerial: "HK-3"}, {HWKeySerial: "HK-2"}} {
		_, err = s.ReplaceCredential(t.Context(), e.ID, c, "", olga)
		wantErr(t, "replacing with "+c.HWKeySerial+", in use", err, store.ErrConflict)
	}
	if _, err := s.ReplaceCredential(t.Context(), e.ID, proCredential("Acme"), "12345", olga); err == nil {
		t.Error("a hardware key's entitlement took a code")
	}
	_, err = s.ReplaceCredential(t.Context(), e.ID+1000, store.Credential{HWKeySerial: "HK-9"}, "", olga)
	wantErr(t, "ReplaceCredential(unknown)", err, store.ErrNotFound)
	wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "replace")
}

// testReissueCode: a customer's code is reissued: the old code is unknown
// at once, the new one finds the same entitlement with its new hint.
func testReissueCode(t *testing.T, s store.Store) {
	e, old := activatePro(t, s, "Acme", 2)
	mustReserve(t, s, reserveParams(old, "k"))
	fresh := proCredential("Acme, reissued")
	got, err := s.ReplaceCredential(t.Context(), e.ID, fresh, "67890", olga)
	if err != nil || got.ID != e.ID || got.CodeHint != "67890" {
		t.Fatalf("ReplaceCredential = %+v, %v", got, err)
	}
	_, err = s.Entitlement(t.Context(), old)
	wantErr(t, "the old code", err, store.ErrUnknownCredential)
	_, _, err = s.Reserve(t.Context(), reserveParams(old, "k-old"))
	wantErr(t, "Reserve with the old code", err, store.ErrUnknownCredential)
	wantStored(t, s, fresh, counts{Purchased: 2, Remaining: 1, Held: 1})
	mustReserve(t, s, reserveParams(fresh, "k-new"))

	activatePro(t, s, "Globex", 1)
	_, err = s.ReplaceCredential(t.Context(), e.ID, proCredential("Globex"), "11111", olga)
	wantErr(t, "reissuing with another customer's code", err, store.ErrConflict)
	if _, err := s.ReplaceCredential(t.Context(), e.ID, store.Credential{HWKeySerial: "HK-1"}, "", olga); err == nil {
		t.Error("a code's entitlement took a hardware key")
	}
	evs := wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "reissue")
	if !strings.Contains(evs[0].Detail, "67890") || strings.Contains(evs[0].Detail, string(fresh.CodeHash)) {
		t.Errorf("event %+v", evs[0])
	}
}

// testCorrect: purchased and remaining move together, for a reason, never
// below zero, and the audit stays clean (the suite audits after).
func testCorrect(t *testing.T, s store.Store) {
	e, c := activatePro(t, s, "Acme", 5)
	mustReserve(t, s, reserveParams(c, "k"))
	down, err := s.Correct(t.Context(), e.ID, -2, olga)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "-2", down, counts{Purchased: 3, Remaining: 2, Held: 1})
	up, err := s.Correct(t.Context(), e.ID, 3, olga)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "+3", up, counts{Purchased: 6, Remaining: 5, Held: 1})
	l := lastLedgerRow(t, s, e.ID)
	if l.Kind != store.LedgerCorrection || l.DeltaPurchased != 3 || l.DeltaRemaining != 3 || l.DeltaHeld != 0 ||
		l.DeltaConsumed != 0 || l.Actor != olga.Name || l.Reason != olga.Reason || l.ReservationID != "" {
		t.Errorf("ledger row %+v", l)
	}

	_, err = s.Correct(t.Context(), e.ID, -6, olga)
	wantErr(t, "a correction below zero remaining", err, store.ErrWouldGoNegative)
	if _, err := s.Correct(t.Context(), e.ID, 0, olga); err == nil {
		t.Error("a correction of 0 was accepted")
	}
	if _, err := s.Correct(t.Context(), e.ID, 1, store.Actor{Name: olga.Name}); err == nil {
		t.Error("a correction without a reason was accepted")
	}
	if _, err := s.Correct(t.Context(), e.ID, 1, store.Actor{Reason: "why"}); err == nil {
		t.Error("a correction without an actor was accepted")
	}
	_, err = s.Correct(t.Context(), e.ID+1000, 1, olga)
	wantErr(t, "Correct(unknown)", err, store.ErrNotFound)
	wantStored(t, s, c, counts{Purchased: 6, Remaining: 5, Held: 1})
	evs := wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "correct", "correct")
	if evs[0].Reason != olga.Reason || evs[0].EntitlementID != e.ID || !strings.Contains(evs[0].Detail, "+3") {
		t.Errorf("event %+v", evs[0])
	}
	// The whole correction can be taken back down to what is held.
	if _, err := s.Correct(t.Context(), e.ID, -5, olga); err != nil {
		t.Errorf("correcting remaining to 0: %v", err)
	}
}
