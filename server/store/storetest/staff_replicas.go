package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/server/store"
)

// The staff tables across replicas: what one replica does, the other sees
// at once, and the database alone keeps counts exact.

// testReplicasThrottle: hits on one key through both replicas at once are
// each counted once.
func testReplicasThrottle(t *testing.T, a, b store.Store) {
	hitConcurrently(t, []store.Store{a, b}, 8, 25)
}

// testReplicasActivateStaff: one activation form posted to both replicas
// many times at once activates once.
func testReplicasActivateStaff(t *testing.T, a, b store.Store) {
	const n = 10
	p := staffActivation("ЕТ Иванов", "", 4)
	p.IdempotencyKey, p.RequestHash, p.Sealed = "INV-9", "hash-9", []byte("sealed")
	outs := make([]store.ActivateOutcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { outs[i], errs[i] = []store.Store{a, b}[i%2].ActivateStaff(t.Context(), p) })
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
		if out.Entitlement.ID != outs[0].Entitlement.ID || !out.Created || string(out.Sealed) != "sealed" {
			t.Errorf("post %d: %+v", i, out)
		}
	}
	if firsts != 1 {
		t.Errorf("%d posts activated, want 1", firsts)
	}
	wantStored(t, b, proCredential("ЕТ Иванов"), counts{Purchased: 4, Remaining: 4})
	wantActions(t, a, store.AuditQuery{Customer: "ЕТ Иванов"}, "activate")
}

// testReplicasDisabledAccount: an account disabled through one replica
// has its sessions and tokens refused by the other at once.
func testReplicasDisabledAccount(t *testing.T, a, b store.Store) {
	anna := createStaff(t, a, "anna", store.RoleOffice, "")
	if err := a.CreateStaffSession(t.Context(), session("s1", "anna")); err != nil {
		t.Fatal(err)
	}
	hash := codeHash("token anna")
	if _, err := a.CreateToken(t.Context(), store.APIToken{Login: "anna", Name: "ci", Role: store.RoleOffice, Hash: hash}, admin); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute)
	if _, _, err := b.StaffSession(t.Context(), session("s1", "").IDHash, now); err != nil {
		t.Fatalf("the session on the other replica: %v", err)
	}
	if _, _, err := b.TokenByHash(t.Context(), hash, now); err != nil {
		t.Fatalf("the token on the other replica: %v", err)
	}
	anna.Disabled = true
	if err := a.UpdateStaff(t.Context(), anna, "staff.disable", admin); err != nil {
		t.Fatal(err)
	}
	_, _, err := b.StaffSession(t.Context(), session("s1", "").IDHash, now)
	wantErr(t, "the session of a disabled account", err, store.ErrNotFound)
	_, _, err = b.TokenByHash(t.Context(), hash, now)
	wantErr(t, "the token of a disabled account", err, store.ErrNotFound)
}
