package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store"
)

// planRows fills a store with enough customers, credentials and ledger
// rows that the planner would read a whole table where an index is
// missing (issue 21: a lost index fails this test, not a customer).
const planRows = `
INSERT INTO customers (name, name_fold, vat, vat_fold, sort_key, created_at)
SELECT 'Клиент ' || i, 'клиент ' || i, 'BG' || (100000000 + i * 7919), 'bg' || (100000000 + i * 7919),
       convert_to('клиент ' || i, 'UTF8'), 0
FROM generate_series(1, 20000) i;
INSERT INTO entitlements (customer, series, kind, code_hash, code_hint, purchased, remaining,
                          created_at, created_at_ns, updated_at, updated_at_ns)
SELECT 'Клиент ' || i, 'pro', 'code', sha256(i::text::bytea), lpad((i * 13 % 100000)::text, 5, '0'), 100, 100, now(), 0, now(), 0
FROM generate_series(1, 20000) i;
INSERT INTO entitlements (customer, series, kind, hwkey_serial, purchased, remaining,
                          created_at, created_at_ns, updated_at, updated_at_ns)
SELECT 'Клиент ' || i, 'classic', 'hwkey', 'HK-' || lpad(i::text, 7, '0'), 10, 10, now(), 0, now(), 0
FROM generate_series(1, 4000) i;
INSERT INTO ledger (entitlement_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns, actor)
SELECT e.id, 'purchase', 1, 1, 0, 0, 0, now(), 0, 'local:'
FROM entitlements e, generate_series(1, 4) g;
ANALYZE customers, entitlements, ledger;
`

// TestSearchPlans asserts, with EXPLAIN, that each kind of staff search and
// the customer page's history read through their indexes: no sequential
// scan of customers, entitlements or the ledger.
func TestSearchPlans(t *testing.T) {
	s := openTemp(t)
	if _, err := s.pool.Exec(t.Context(), planRows); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    store.CustomerQuery
		want []string
	}{
		{"name fragment", store.CustomerQuery{Text: "ент 4711"}, []string{"customers_name_trgm"}},
		{"VAT fragment", store.CustomerQuery{Text: "BG1000790"}, []string{"customers_vat_trgm"}},
		{"code's last group", store.CustomerQuery{Text: "61243"}, []string{"entitlements_by_code_hint"}},
		{"serial fragment", store.CustomerQuery{Text: "hk-0001234"}, []string{"entitlements_serial_trgm", "customers_pkey"}},
		{"whole code", store.CustomerQuery{CodeHash: []byte("0123456789abcdef0123456789abcdef")}, []string{"entitlements_code_hash_key"}},
		{"next page", store.CustomerQuery{After: "Клиент 5"}, []string{"customers_sort_key_key"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			query, args := s.SearchQuery(c.q)
			checkPlan(t, s, query, args, c.want)
		})
	}
	t.Run("customer page", func(t *testing.T) {
		checkPlan(t, s, LedgerPageSQL, []any{int64(77), int64(1 << 40), 201}, []string{"ledger_by_entitlement"})
	})
}

// checkPlan EXPLAINs query as the store runs it (planned for its
// arguments) and fails unless the plan names every index in want and
// reads no table whole. A test's tables are small, and reading a small
// table whole is cheap: with enable_seqscan off, the planner reads one
// whole only when no index serves the query, which is what this test is
// for (bench/run's figure 7 shows the plans the planner picks by itself
// at a million customers).
func checkPlan(t *testing.T, s *Store, query string, args []any, want []string) {
	t.Helper()
	conn, err := s.pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(t.Context(), "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "RESET enable_seqscan") //nolint:errcheck // the connection goes back to a test's pool
	rows, err := conn.Query(t.Context(), "EXPLAIN "+query, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	for _, table := range []string{"customers", "entitlements", "ledger"} {
		if strings.Contains(plan, "Seq Scan on "+table) {
			t.Errorf("the plan reads %s whole:\n%s", table, plan)
		}
	}
	for _, index := range want {
		if !strings.Contains(plan, index) {
			t.Errorf("the plan does not use %s:\n%s", index, plan)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("%s\n%s", query, plan)
	}
}
