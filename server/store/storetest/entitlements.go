package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

func testActivateProCreates(t *testing.T, s store.Store) {
	e, created, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: "Acme", Series: api.SeriesPro, Credential: proCredential("Acme"), CodeHint: "67890", Updates: 3, Now: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false for a new customer")
	}
	wantCounts(t, "new", e, counts{Purchased: 3, Remaining: 3})
	if e.ID == 0 || e.Customer != "Acme" || e.Series != api.SeriesPro || e.Kind != store.KindCode ||
		e.CodeHint != "67890" || e.HWKeySerial != "" || !e.Active {
		t.Errorf("entitlement %+v", e)
	}
	if !e.CreatedAt.Equal(t0) || !e.UpdatedAt.Equal(t0) {
		t.Errorf("times %v, %v; want %v", e.CreatedAt, e.UpdatedAt, t0)
	}
}

func testActivateProAdds(t *testing.T, s store.Store) {
	first, c := activatePro(t, s, "Acme", 3)
	// Another code for the same customer is ignored: one code covers the series.
	e, created, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: "Acme", Series: api.SeriesPro, Credential: proCredential("Acme, second code"), CodeHint: "99999", Updates: 2, Now: t0.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true for an existing customer")
	}
	if e.ID != first.ID {
		t.Errorf("entitlement %d, want the existing %d", e.ID, first.ID)
	}
	if e.CodeHint != first.CodeHint {
		t.Errorf("code hint %q, want the first code's %q", e.CodeHint, first.CodeHint)
	}
	wantCounts(t, "after adding", e, counts{Purchased: 5, Remaining: 5})
	wantStored(t, s, c, counts{Purchased: 5, Remaining: 5})
	if _, err := s.Entitlement(t.Context(), proCredential("Acme, second code")); !errors.Is(err, store.ErrUnknownCredential) {
		t.Errorf("the ignored second code: %v, want ErrUnknownCredential", err)
	}

	other, _ := activatePro(t, s, "Globex", 1)
	if other.ID == first.ID {
		t.Error("another customer got the same entitlement")
	}
	pro, err := s.ProEntitlement(t.Context(), "Acme")
	if err != nil || pro.ID != first.ID {
		t.Errorf("ProEntitlement(Acme) = %d, %v; want %d", pro.ID, err, first.ID)
	}
	_, err = s.ProEntitlement(t.Context(), "Initech")
	wantErr(t, "ProEntitlement(unknown)", err, store.ErrNotFound)
}

func testActivateClassic(t *testing.T, s store.Store) {
	e, created, err := activateClassic(t, s, "Acme", "HK-0001", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !created || e.Kind != store.KindHWKey || e.Series != api.SeriesClassic || e.HWKeySerial != "HK-0001" || !e.Active {
		t.Errorf("created %v, entitlement %+v", created, e)
	}
	again, created, err := activateClassic(t, s, "Acme", "HK-0001", 4)
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != e.ID {
		t.Errorf("re-activation: created %v, entitlement %d; want false, %d", created, again.ID, e.ID)
	}
	wantCounts(t, "re-activated", again, counts{Purchased: 6, Remaining: 6})

	_, _, err = activateClassic(t, s, "Globex", "HK-0001", 1)
	wantErr(t, "another customer's key", err, store.ErrConflict)
	wantStored(t, s, store.Credential{HWKeySerial: "HK-0001"}, counts{Purchased: 6, Remaining: 6})

	// A customer may have several keys, and a Pro code besides.
	if _, _, err := activateClassic(t, s, "Acme", "HK-0002", 1); err != nil {
		t.Errorf("second key: %v", err)
	}
	activatePro(t, s, "Acme", 1)
}

func testActivateRejectsBadInput(t *testing.T, s store.Store) {
	for _, p := range []store.ActivateParams{
		{Series: api.SeriesPro, Credential: proCredential("x"), Updates: 1},                                // no customer
		{Customer: "A", Series: api.SeriesPro, Credential: proCredential("x"), Updates: 0},                 // nothing added
		{Customer: "A", Series: api.SeriesPro, Credential: proCredential("x"), Updates: -1},                // negative
		{Customer: "A", Series: "gold", Credential: proCredential("x"), Updates: 1},                        // no such series
		{Customer: "A", Series: api.SeriesClassic, Credential: store.Credential{}, Updates: 1},             // no serial
		{Customer: "A", Series: api.SeriesPro, Credential: store.Credential{HWKeySerial: "K"}, Updates: 1}, // no code
	} {
		if _, _, err := s.Activate(t.Context(), p); err == nil {
			t.Errorf("Activate(%+v) succeeded", p)
		}
	}
	if all, err := s.Entitlements(t.Context()); err != nil || len(all) != 0 {
		t.Errorf("after refused activations: %d entitlements, %v", len(all), err)
	}
}

func testEntitlementLookup(t *testing.T, s store.Store) {
	pro, c := activatePro(t, s, "Acme", 1)
	classic, _, err := activateClassic(t, s, "Acme", "HK-0001", 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Entitlement(t.Context(), c)
	if err != nil || got.ID != pro.ID {
		t.Errorf("by code hash: %d, %v; want %d", got.ID, err, pro.ID)
	}
	got, err = s.Entitlement(t.Context(), store.Credential{HWKeySerial: "HK-0001"})
	if err != nil || got.ID != classic.ID {
		t.Errorf("by serial: %d, %v; want %d", got.ID, err, classic.ID)
	}
	for name, c := range map[string]store.Credential{
		"unknown code":   proCredential("nobody"),
		"unknown serial": {HWKeySerial: "HK-9999"},
		"empty":          {},
	} {
		_, err := s.Entitlement(t.Context(), c)
		wantErr(t, name, err, store.ErrUnknownCredential)
	}
}

func testEntitlements(t *testing.T, s store.Store) {
	all, err := s.Entitlements(t.Context())
	if err != nil || len(all) != 0 {
		t.Fatalf("empty store: %v, %v", all, err)
	}
	a, _ := activatePro(t, s, "Acme", 1)
	b, _, _ := activateClassic(t, s, "Globex", "HK-1", 2)
	c, _ := activatePro(t, s, "Initech", 3)
	all, err = s.Entitlements(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	if fmt.Sprint(ids) != fmt.Sprint([]int64{a.ID, b.ID, c.ID}) {
		t.Errorf("IDs %v, want %v in order", ids, []int64{a.ID, b.ID, c.ID})
	}
}
