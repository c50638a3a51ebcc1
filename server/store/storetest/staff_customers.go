package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aktual/aktual/server/store"
)

// Customers and distributors: lookups, changes, and the search staff find
// a customer with.

func testCustomers(t *testing.T, s store.Store) {
	pro, _ := activatePro(t, s, "Acme", 2)
	k1, _, _ := activateClassic(t, s, "Acme", "HK-2", 1)
	k2, _, _ := activateClassic(t, s, "Acme", "HK-1", 1)
	c, err := s.Customer(t.Context(), "Acme")
	if err != nil || c.Name != "Acme" || c.VAT != "" || c.Distributor != "" || !c.CreatedAt.Equal(t0) {
		t.Errorf("Customer(Acme), made by a plain Activate = %+v, %v", c, err)
	}
	_, err = s.Customer(t.Context(), "acme")
	wantErr(t, "Customer by another case", err, store.ErrNotFound)

	all, err := s.CustomerEntitlements(t.Context(), "Acme")
	if err != nil || len(all) != 3 || all[0].ID != pro.ID || all[1].ID != k1.ID || all[2].ID != k2.ID {
		t.Errorf("CustomerEntitlements(Acme) = %+v, %v; want %d, %d, %d", all, err, pro.ID, k1.ID, k2.ID)
	}
	if none, err := s.CustomerEntitlements(t.Context(), "Nobody"); err != nil || len(none) != 0 {
		t.Errorf("CustomerEntitlements(Nobody) = %+v, %v", none, err)
	}
	if e, err := s.EntitlementByID(t.Context(), k1.ID); err != nil || e.HWKeySerial != "HK-2" || e.Customer != "Acme" {
		t.Errorf("EntitlementByID(%d) = %+v, %v", k1.ID, e, err)
	}
	_, err = s.EntitlementByID(t.Context(), k2.ID+1000)
	wantErr(t, "EntitlementByID(unknown)", err, store.ErrNotFound)

	upd := store.Customer{Name: "Acme", VAT: "BG175074752", Distributor: "Дистрибутор ООД"}
	_, err = s.UpdateCustomer(t.Context(), upd, olga)
	wantErr(t, "UpdateCustomer to an unknown distributor", err, store.ErrNotFound)
	addDistributor(t, s, upd.Distributor)
	got, err := s.UpdateCustomer(t.Context(), upd, olga)
	if err != nil || got.VAT != upd.VAT || got.Distributor != upd.Distributor || !got.CreatedAt.Equal(t0) {
		t.Errorf("UpdateCustomer = %+v, %v", got, err)
	}
	if stored, _ := s.Customer(t.Context(), "Acme"); stored != got {
		t.Errorf("stored %+v, returned %+v", stored, got)
	}
	if _, err := s.UpdateCustomer(t.Context(), upd, olga); err != nil { // no change: no event
		t.Fatal(err)
	}
	evs := wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "customer")
	if evs[0].Actor != olga.Name || evs[0].Detail == "" {
		t.Errorf("event %+v", evs[0])
	}
	_, err = s.UpdateCustomer(t.Context(), store.Customer{Name: "Nobody"}, olga)
	wantErr(t, "UpdateCustomer(unknown)", err, store.ErrNotFound)
	if _, err := s.UpdateCustomer(t.Context(), upd, store.Actor{}); err == nil {
		t.Error("UpdateCustomer without an actor was accepted")
	}
}

func testDistributors(t *testing.T, s store.Store) {
	if ds, err := s.Distributors(t.Context()); err != nil || len(ds) != 0 {
		t.Errorf("Distributors of a new store = %q, %v", ds, err)
	}
	for _, d := range []string{"Дистрибутор ООД", "Beta", "Alpha", "Beta"} {
		addDistributor(t, s, d)
	}
	ds, err := s.Distributors(t.Context())
	if want := []string{"Alpha", "Beta", "Дистрибутор ООД"}; err != nil || !slices.Equal(ds, want) {
		t.Errorf("Distributors = %q, %v; want %q", ds, err, want)
	}
	wantActions(t, s, store.AuditQuery{Actor: "staff:admin"}, "distributor.add", "distributor.add", "distributor.add")
	if err := s.AddDistributor(t.Context(), "", olga); err == nil {
		t.Error("a distributor without a name was accepted")
	}
}

// testCustomerSearch: the console's one search box finds a customer by
// any case of any part of its name or VAT number (Bulgarian names
// included), its code's last group, its hardware key, or a whole code.
func testCustomerSearch(t *testing.T, s store.Store) {
	addDistributor(t, s, "D1")
	ivanov := staffActivation("ЕТ Иванов", "", 1)
	ivanov.VAT = "BG111222333"
	mustActivateStaff(t, s, ivanov)
	mustActivateStaff(t, s, staffActivation("Иванов и синове ООД", "D1", 1))
	mustActivateStaff(t, s, classicStaffActivation("Acme Ltd", "", "HK-7788", 1))
	globex := staffActivation("Globex 100%_", "D1", 1)
	globex.CodeHint = "54321"
	mustActivateStaff(t, s, globex)

	for _, tc := range []struct {
		q    store.CustomerQuery
		want []string
	}{
		{store.CustomerQuery{}, []string{"Acme Ltd", "Globex 100%_", "ЕТ Иванов", "Иванов и синове ООД"}},
		{store.CustomerQuery{Text: "иванов"}, []string{"ЕТ Иванов", "Иванов и синове ООД"}},
		{store.CustomerQuery{Text: "  ИВАНОВ "}, []string{"ЕТ Иванов", "Иванов и синове ООД"}},
		{store.CustomerQuery{Text: "ет ив"}, []string{"ЕТ Иванов"}},
		{store.CustomerQuery{Text: "bg111"}, []string{"ЕТ Иванов"}},
		{store.CustomerQuery{Text: "hk-77"}, []string{"Acme Ltd"}},
		{store.CustomerQuery{Text: "54321"}, []string{"Globex 100%_"}},
		{store.CustomerQuery{Text: "5432"}, nil}, // a code's group is matched whole
		{store.CustomerQuery{Text: "%"}, []string{"Globex 100%_"}},
		{store.CustomerQuery{Text: "_"}, []string{"Globex 100%_"}},
		{store.CustomerQuery{Text: "nobody"}, nil},
		{store.CustomerQuery{CodeHash: codeHash("Globex 100%_")}, []string{"Globex 100%_"}},
		{store.CustomerQuery{CodeHash: codeHash("nobody")}, nil},
		{store.CustomerQuery{Distributor: "D1"}, []string{"Globex 100%_", "Иванов и синове ООД"}},
		{store.CustomerQuery{Distributor: "D1", Text: "иванов"}, []string{"Иванов и синове ООД"}},
		{store.CustomerQuery{Distributor: "D1", Text: "hk-7788"}, nil},
		{store.CustomerQuery{Distributor: "D2"}, nil},
	} {
		wantCustomers(t, s, tc.q, tc.want...)
	}
}

// testCustomerPagination: pages follow one another by name, whatever the
// case of the names, and the last one says so.
func testCustomerPagination(t *testing.T, s store.Store) {
	var want []string
	for i := 1; i <= 23; i++ {
		want = append(want, fmt.Sprintf("customer %02d", i))
	}
	// Folded order: not byte order, where "Banana" would come first.
	want = append([]string{"apple", "Banana", "cherry"}, want...)
	for i := len(want) - 1; i >= 0; i-- {
		activatePro(t, s, want[i], 1)
	}
	var got []string
	q := store.CustomerQuery{Limit: 10}
	for pages := 0; ; pages++ {
		page, next, err := s.Customers(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, customerNames(page)...)
		if next == "" {
			if pages != 2 || len(page) != 6 {
				t.Errorf("last page is page %d with %d names, want page 2 with 6", pages, len(page))
			}
			break
		}
		if pages > 3 || next != page[len(page)-1].Name {
			t.Fatalf("page %d: next %q after %q", pages, next, customerNames(page))
		}
		q.After = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %q, want %q", got, want)
	}
	wantCustomers(t, s, store.CustomerQuery{Text: "customer 2", After: "customer 20"}, "customer 21", "customer 22", "customer 23")
	if page, next, err := s.Customers(t.Context(), store.CustomerQuery{}); err != nil || len(page) != len(want) || next != "" {
		t.Errorf("default page: %d names, next %q, %v", len(page), next, err)
	}
	if page, next, err := s.Customers(t.Context(), store.CustomerQuery{Limit: -1}); err != nil || len(page) != len(want) || next != "" {
		t.Errorf("a negative limit: %d names, next %q, %v", len(page), next, err)
	}
}

// testCustomerPageLimit: a page holds at most store.MaxCustomerPage.
func testCustomerPageLimit(t *testing.T, s store.Store) {
	for i := range store.MaxCustomerPage + 1 {
		activatePro(t, s, fmt.Sprintf("c%03d", i), 1)
	}
	page, next, err := s.Customers(t.Context(), store.CustomerQuery{Limit: 1000})
	if err != nil || len(page) != store.MaxCustomerPage || next != page[len(page)-1].Name {
		t.Fatalf("Limit 1000: %d names, next %q, %v", len(page), next, err)
	}
	wantCustomers(t, s, store.CustomerQuery{Limit: 1000, After: next}, fmt.Sprintf("c%03d", store.MaxCustomerPage))
}
