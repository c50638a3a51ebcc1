package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// The staff scenarios' actors, accounts and the steps they start with.

// admin is the staff administrator.
var admin = store.Actor{Name: "staff:admin", Address: "192.0.2.1"}

// olga is an office clerk working in the console.
var olga = store.Actor{Name: "staff:olga", Address: "192.0.2.7", Reason: "invoice 2031-0042"}

// staffActivation is olga activating n Pro updates for customer, under
// distributor ("" for the vendor's own).
func staffActivation(customer, distributor string, n int64) store.ActivateStaffParams {
	return store.ActivateStaffParams{
		ActivateParams: store.ActivateParams{
			Customer: customer, Series: api.SeriesPro, Credential: proCredential(customer), CodeHint: "12345",
			Updates: n, Now: t0,
		},
		Actor:       olga,
		Distributor: distributor,
	}
}

// classicStaffActivation is olga activating n updates for a hardware key.
func classicStaffActivation(customer, distributor, serial string, n int64) store.ActivateStaffParams {
	p := staffActivation(customer, distributor, n)
	p.Series, p.Credential, p.CodeHint = api.SeriesClassic, store.Credential{HWKeySerial: serial}, ""
	return p
}

func mustActivateStaff(t *testing.T, s store.Store, p store.ActivateStaffParams) store.ActivateOutcome {
	t.Helper()
	out, err := s.ActivateStaff(t.Context(), p)
	if err != nil {
		t.Fatalf("ActivateStaff(%s, %d): %v", p.Customer, p.Updates, err)
	}
	return out
}

func addDistributor(t *testing.T, s store.Store, name string) {
	t.Helper()
	if err := s.AddDistributor(t.Context(), name, admin); err != nil {
		t.Fatalf("AddDistributor(%s): %v", name, err)
	}
}

// account is a staff account with a made-up password hash.
func account(login, role, distributor string) store.StaffAccount {
	return store.StaffAccount{Login: login, Role: role, Distributor: distributor,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$" + login, CreatedAt: t0}
}

func createStaff(t *testing.T, s store.Store, login, role, distributor string) store.StaffAccount {
	t.Helper()
	acc := account(login, role, distributor)
	if err := s.CreateStaff(t.Context(), acc, admin); err != nil {
		t.Fatalf("CreateStaff(%s): %v", login, err)
	}
	return acc
}

// session is a console session of login, in force for an hour from t0.
func session(id, login string) store.StaffSession {
	return store.StaffSession{IDHash: codeHash("session " + id), Login: login, CSRF: "csrf-" + id,
		Address: "198.51.100.4", Pending: true, CreatedAt: t0, SeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
}

func events(t *testing.T, s store.Store, q store.AuditQuery) []store.AuditEvent {
	t.Helper()
	evs, _, err := s.Events(t.Context(), q)
	if err != nil {
		t.Fatalf("Events(%+v): %v", q, err)
	}
	return evs
}

// actions are the events' actions, oldest first.
func actions(evs []store.AuditEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[len(evs)-1-i] = e.Action
	}
	return out
}

func wantActions(t *testing.T, s store.Store, q store.AuditQuery, want ...string) []store.AuditEvent {
	t.Helper()
	evs := events(t, s, q)
	if got := actions(evs); !slices.Equal(got, want) {
		t.Errorf("events %+v: actions %q, want %q", q, got, want)
	}
	return evs
}

// customerNames are the names of a page of customers.
func customerNames(cs []store.Customer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func wantCustomers(t *testing.T, s store.Store, q store.CustomerQuery, want ...string) {
	t.Helper()
	got, next, err := s.Customers(t.Context(), q)
	if err != nil {
		t.Fatalf("Customers(%+v): %v", q, err)
	}
	if !slices.Equal(customerNames(got), want) || next != "" {
		t.Errorf("Customers(%+v) = %q (next %q), want %q", q, customerNames(got), next, want)
	}
}

// lastLedgerRow is an entitlement's newest ledger row.
func lastLedgerRow(t *testing.T, s store.Store, id int64) store.LedgerEntry {
	t.Helper()
	l, err := s.Ledger(t.Context(), id)
	if err != nil || len(l) == 0 {
		t.Fatalf("Ledger(%d) = %d rows, %v", id, len(l), err)
	}
	return l[len(l)-1]
}
