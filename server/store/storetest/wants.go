package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aktual/aktual/server/store"
)

// Assertions the scenarios share.

// counts are an entitlement's counts, compared as one value.
type counts struct{ Purchased, Remaining, Held, Consumed, Overdraft int64 }

func countsOf(e store.Entitlement) counts {
	return counts{e.Purchased, e.Remaining, e.Held, e.Consumed, e.Overdraft}
}

func wantCounts(t *testing.T, what string, e store.Entitlement, want counts) {
	t.Helper()
	if got := countsOf(e); got != want {
		t.Errorf("%s: counts %+v, want %+v", what, got, want)
	}
}

// wantStored checks the counts as the store now has them, not as some
// call returned them.
func wantStored(t *testing.T, s store.Store, c store.Credential, want counts) {
	t.Helper()
	e, err := s.Entitlement(t.Context(), c)
	if err != nil {
		t.Fatalf("Entitlement: %v", err)
	}
	wantCounts(t, "stored", e, want)
}

func wantState(t *testing.T, s store.Store, id, state string) {
	t.Helper()
	r, err := s.Reservation(t.Context(), id)
	if err != nil {
		t.Fatalf("Reservation(%s): %v", id, err)
	}
	if r.State != state {
		t.Errorf("reservation %s is %q, want %q", id, r.State, state)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func ledgerKinds(t *testing.T, s store.Store, entitlementID int64) []string {
	t.Helper()
	l, err := s.Ledger(t.Context(), entitlementID)
	if err != nil {
		t.Fatalf("Ledger: %v", err)
	}
	kinds := make([]string, len(l))
	for i, x := range l {
		kinds[i] = x.Kind
	}
	return kinds
}

func wantLedgerKinds(t *testing.T, s store.Store, entitlementID int64, want ...string) {
	t.Helper()
	if got := ledgerKinds(t, s, entitlementID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ledger kinds %v, want %v", got, want)
	}
}
