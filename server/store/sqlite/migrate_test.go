package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storetest"
)

// version5 makes a database at schema version 5, as the build before the
// staff tables left it, holding two customers' entitlements, reservations
// and ledger: one Bulgarian name, one with a key and a code. The ledger's
// sequence is ahead of its largest id, as after a rolled-back insert.
func version5(t *testing.T, path string) {
	t.Helper()
	db := rawDB(t, path)
	ctx := t.Context()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i, m := range migrations[:5] {
		if _, err := tx.ExecContext(ctx, m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	at := func(d time.Duration) string { return formatTime(t0.Add(d)) }
	for _, q := range []string{
		`PRAGMA user_version = 5`,
		`INSERT INTO entitlements (id, customer, series, kind, code_hash, code_hint, purchased, remaining, created_at, updated_at)
		 VALUES (1, 'ЕТ Иванов', 'pro', 'code', X'01', '11111', 3, 3, '` + at(0) + `', '` + at(0) + `')`,
		`INSERT INTO entitlements (id, customer, series, kind, hwkey_serial, purchased, remaining, consumed, created_at, updated_at)
		 VALUES (2, 'Acme', 'classic', 'hwkey', 'HK-1', 2, 1, 1, '` + at(time.Hour) + `', '` + at(time.Hour) + `')`,
		`INSERT INTO entitlements (id, customer, series, kind, code_hash, code_hint, purchased, remaining, created_at, updated_at)
		 VALUES (3, 'Acme', 'pro', 'code', X'02', '22222', 1, 1, '` + at(2*time.Hour) + `', '` + at(2*time.Hour) + `')`,
		`INSERT INTO reservations (id, idempotency_key, entitlement_id, product, from_version, to_version, machine_id, state, created_at, updated_at, expires_at)
		 VALUES ('r_a', 'ka', 2, 'ledgerbook', '1.0', '2.0', 'm1', 'consumed', '` + at(0) + `', '` + at(0) + `', '` + at(time.Hour) + `'),
		        ('r_b', 'kb', 2, 'ledgerbook', '1.0', '2.0', 'm1', 'expired', '` + at(0) + `', '` + at(0) + `', '` + at(time.Hour) + `')`,
		`INSERT INTO ledger (id, entitlement_id, reservation_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at) VALUES
		 (1, 1, NULL, 'purchase', 3, 3, 0, 0, 0, '` + at(0) + `'),
		 (2, 2, NULL, 'purchase', 2, 2, 0, 0, 0, '` + at(time.Hour) + `'),
		 (3, 2, 'r_a', 'reserve', 0, -1, 1, 0, 0, '` + at(time.Hour) + `'),
		 (4, 2, 'r_b', 'reserve', 0, -1, 1, 0, 0, '` + at(time.Hour) + `'),
		 (5, 2, 'r_a', 'complete', 0, 0, -1, 1, 0, '` + at(time.Hour) + `'),
		 (6, 2, 'r_b', 'expire', 0, 1, -1, 0, 0, '` + at(time.Hour) + `'),
		 (7, 3, NULL, 'purchase', 1, 1, 0, 0, 0, '` + at(2*time.Hour) + `')`,
		`UPDATE sqlite_sequence SET seq = 40 WHERE name = 'ledger'`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyVersion5: a backup made before the staff tables is checked as
// it is (its ledger has no actors to audit).
func TestVerifyVersion5(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v5.db")
	version5(t, path)
	sum, err := Verify(t.Context(), path)
	if err != nil || sum.SchemaVersion != 5 || len(sum.Violations) != 0 || sum.LedgerRows != 7 {
		t.Errorf("Verify of a version 5 database: %+v, %v", sum, err)
	}
}

// TestMigrateFromVersion5: opening a version 5 database moves it to the
// newest schema, keeping every row: the ledger gets the actors it could
// not record, the customers are made from the entitlements (found by any
// case of a Bulgarian name), and the audit stays clean.
func TestMigrateFromVersion5(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aktual.db")
	version5(t, path)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("user_version %d, %v", v, err)
	}
	storetest.RequireClean(t, s)

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

	// New rows go on after the old sequence, with their actors.
	if _, err := s.Correct(ctx, 3, 2, store.Actor{Name: "staff:olga", Reason: "goodwill"}); err != nil {
		t.Fatal(err)
	}
	l, _ := s.Ledger(ctx, 3)
	if last := l[len(l)-1]; last.ID != 41 || last.Kind != store.LedgerCorrection || last.Actor != "staff:olga" {
		t.Errorf("the first row after migrating: %+v, want id 41", last)
	}
	if _, _, err := s.Reserve(ctx, store.ReserveParams{IdempotencyKey: "new", Credential: store.Credential{HWKeySerial: "HK-1"},
		Series: api.SeriesClassic, Product: "ledgerbook", ToVersion: "2.0", MachineID: "m1", Now: t0}); err != nil {
		t.Fatal(err)
	}
	storetest.RequireClean(t, s)
	wantSchemaRefuses(t, s)
}

// wantSchemaRefuses: the new ledger and the audit log keep their
// constraints and triggers (after a migration, as after a fresh start).
func wantSchemaRefuses(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{`UPDATE ledger SET actor = 'x'`, `DELETE FROM ledger`} {
		if _, err := s.db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	ins := `INSERT INTO ledger (entitlement_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, actor, reason)
		VALUES (1, ?, ?, ?, ?, 0, 0, '2031-01-01T00:00:00.000000000Z', ?, ?)`
	for _, args := range [][]any{
		{"bogus", 0, 0, 0, "x", ""},                // an unknown kind
		{"purchase", 1, 1, 0, "", ""},              // no actor
		{"correction", 1, 1, 0, "staff:x", ""},     // a correction without a reason
		{"correction", 0, -1, 1, "staff:x", "why"}, // a correction of what is held
	} {
		if _, err := s.db.ExecContext(ctx, ins, args...); err == nil {
			t.Errorf("ledger row %v: accepted", args)
		}
	}
	if err := s.RecordEvent(ctx, store.AuditEvent{Actor: "staff:x", Action: "login"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_events SET actor = 'y'`, `DELETE FROM audit_events`} {
		if _, err := s.db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "the audit log is append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_index_list('ledger') WHERE name = 'ledger_by_entitlement'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the ledger's index: %d, %v", n, err)
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
