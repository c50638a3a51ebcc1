package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/internal/pgtest"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storetest"
)

// version5 makes the database at u as the build before the staff tables
// left it (schema version 5), holding two customers' entitlements,
// reservations and ledger: one Bulgarian name, one with a key and a code.
// The ledger's identity is ahead of its largest id.
func version5(t *testing.T, u string) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `CREATE TABLE schema_migrations (
		version integer PRIMARY KEY CHECK (version > 0), applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:5] {
		if _, err := tx.Exec(ctx, m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
			t.Fatal(err)
		}
	}
	at0, ns0 := storedTime(t0)
	at1, ns1 := storedTime(t0.Add(time.Hour))
	at2, ns2 := storedTime(t0.Add(2 * time.Hour))
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO entitlements (customer, series, kind, code_hash, code_hint, purchased, remaining, created_at, created_at_ns, updated_at, updated_at_ns)
		 VALUES ('ЕТ Иванов', 'pro', 'code', '\x01', '11111', 3, 3, $1, $2, $1, $2)`, []any{at0, ns0}},
		{`INSERT INTO entitlements (customer, series, kind, hwkey_serial, purchased, remaining, consumed, created_at, created_at_ns, updated_at, updated_at_ns)
		 VALUES ('Acme', 'classic', 'hwkey', 'HK-1', 2, 1, 1, $1, $2, $1, $2)`, []any{at1, ns1}},
		{`INSERT INTO entitlements (customer, series, kind, code_hash, code_hint, purchased, remaining, created_at, created_at_ns, updated_at, updated_at_ns)
		 VALUES ('Acme', 'pro', 'code', '\x02', '22222', 1, 1, $1, $2, $1, $2)`, []any{at2, ns2}},
		{`INSERT INTO reservations (id, idempotency_key, entitlement_id, product, from_version, to_version, machine_id, state,
		     created_at, created_at_ns, updated_at, updated_at_ns, expires_at, expires_at_ns)
		 VALUES ('r_a', 'ka', 2, 'ledgerbook', '1.0', '2.0', 'm1', 'consumed', $1, $2, $1, $2, $3, $4),
		        ('r_b', 'kb', 2, 'ledgerbook', '1.0', '2.0', 'm1', 'expired', $1, $2, $1, $2, $3, $4)`, []any{at0, ns0, at1, ns1}},
		{`INSERT INTO ledger (entitlement_id, reservation_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns) VALUES
		 (1, NULL, 'purchase', 3, 3, 0, 0, 0, $1, $2),
		 (2, NULL, 'purchase', 2, 2, 0, 0, 0, $3, $4),
		 (2, 'r_a', 'reserve', 0, -1, 1, 0, 0, $3, $4),
		 (2, 'r_b', 'reserve', 0, -1, 1, 0, 0, $3, $4),
		 (2, 'r_a', 'complete', 0, 0, -1, 1, 0, $3, $4),
		 (2, 'r_b', 'expire', 0, 1, -1, 0, 0, $3, $4),
		 (3, NULL, 'purchase', 1, 1, 0, 0, 0, $5, $6)`, []any{at0, ns0, at1, ns1, at2, ns2}},
	} {
		if _, err := tx.Exec(ctx, st.q, st.args...); err != nil {
			t.Fatalf("%s: %v", st.q, err)
		}
	}
	if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('ledger', 'id'), 40)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFromVersion5: opening a version 5 database moves it to the
// newest schema, keeping every row: the ledger gets the actors it could
// not record, the customers are made from the entitlements (found by any
// case of a Bulgarian name), and the audit stays clean.
func TestMigrateFromVersion5(t *testing.T) {
	u := pgtest.URL(t)
	version5(t, u)
	s := open(t, u)
	wantAllVersions(t, s)
	storetest.RequireClean(t, s)
	ctx := t.Context()

	type row struct {
		id          int64
		kind, actor string
	}
	var got []row
	for _, id := range []int64{1, 2, 3} {
		l, err := s.Ledger(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range l {
			got = append(got, row{x.ID, x.Kind, x.Actor})
		}
	}
	want := []row{{1, "purchase", "local:"}, {2, "purchase", "local:"}, {3, "reserve", "installer"}, {4, "reserve", "installer"},
		{5, "complete", "installer"}, {6, "expire", "expiry"}, {7, "purchase", "local:"}}
	if !slices.Equal(got, want) {
		t.Errorf("ledger after migrating:\n got %v\nwant %v", got, want)
	}
	for name, created := range map[string]time.Time{"ЕТ Иванов": t0, "Acme": t0.Add(time.Hour)} {
		c, err := s.Customer(ctx, name)
		if err != nil || !c.CreatedAt.Equal(created) || c.Distributor != "" {
			t.Errorf("Customer(%s) = %+v, %v; want made at %v", name, c, err, created)
		}
	}
	page, _, err := s.Customers(ctx, store.CustomerQuery{Text: "иванов"})
	if err != nil || len(page) != 1 || page[0].Name != "ЕТ Иванов" {
		t.Errorf("searching the migrated customers: %+v, %v", page, err)
	}
	if page, _, err := s.Customers(ctx, store.CustomerQuery{}); err != nil || len(page) != 2 || page[0].Name != "Acme" {
		t.Errorf("the migrated customers in order: %+v, %v", page, err)
	}
	if _, err := s.Correct(ctx, 3, 2, store.Actor{Name: "staff:olga", Reason: "goodwill"}); err != nil {
		t.Fatal(err)
	}
	l, _ := s.Ledger(ctx, 3)
	if last := l[len(l)-1]; last.ID != 41 || last.Kind != store.LedgerCorrection || last.Actor != "staff:olga" {
		t.Errorf("the first row after migrating: %+v, want id 41", last)
	}
	storetest.RequireClean(t, s)
	wantSchemaRefuses(t, s)
}

// wantSchemaRefuses: the ledger and the audit log keep their constraints
// and triggers (after a migration, as after a fresh start).
func wantSchemaRefuses(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{`UPDATE ledger SET actor = 'x'`, `DELETE FROM ledger`, `TRUNCATE ledger`} {
		if _, err := s.pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "the ledger is append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	ins := `INSERT INTO ledger (entitlement_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns, actor, reason)
		VALUES (1, $1, $2, $3, $4, 0, 0, now(), 0, $5, $6)`
	for _, args := range [][]any{
		{"bogus", 0, 0, 0, "x", ""},                // an unknown kind
		{"purchase", 1, 1, 0, "", ""},              // no actor
		{"correction", 1, 1, 0, "staff:x", ""},     // a correction without a reason
		{"correction", 0, -1, 1, "staff:x", "why"}, // a correction of what is held
	} {
		if _, err := s.pool.Exec(ctx, ins, args...); err == nil {
			t.Errorf("ledger row %v: accepted", args)
		}
	}
	if err := s.RecordEvent(ctx, store.AuditEvent{Actor: "staff:x", Action: "login"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_events SET actor = 'y'`, `DELETE FROM audit_events`, `TRUNCATE audit_events`} {
		if _, err := s.pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "the audit log is append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
}

// TestSchemaRefusesFresh: a database made new refuses what a migrated one
// does.
func TestSchemaRefusesFresh(t *testing.T) {
	s := openTemp(t)
	activate(t, s, "Acme", 2)
	wantSchemaRefuses(t, s)
	storetest.RequireClean(t, s)
}
