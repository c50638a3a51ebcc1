package sqlite

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// planRows fills a store with enough customers, credentials and ledger
// rows for the planner to care (issue 21: a lost index fails this test,
// not a customer).
const planRows = `
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
INSERT INTO customers (name, name_fold, vat, vat_fold, sort_key, created_at)
SELECT 'Клиент ' || i, 'клиент ' || i, 'BG' || (100000000 + i * 7919), 'bg' || (100000000 + i * 7919),
       CAST('клиент ' || i AS BLOB), 0 FROM n;
INSERT INTO entitlements (customer, series, kind, code_hash, code_hint, purchased, remaining, created_at, updated_at)
SELECT name, 'pro', 'code', CAST(name AS BLOB), substr('0000' || (rowid * 13 % 100000), -5), 100, 100, 'x', 'x' FROM customers;
INSERT INTO entitlements (customer, series, kind, hwkey_serial, purchased, remaining, created_at, updated_at)
SELECT name, 'classic', 'hwkey', 'HK-' || substr('000000' || rowid, -7), 10, 10, 'x', 'x' FROM customers WHERE rowid <= 1500;
INSERT INTO ledger (entitlement_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, actor)
SELECT e.id, 'purchase', 1, 1, 0, 0, 0, 'x', 'local:' FROM entitlements e, (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3);
ANALYZE;
`

// TestSearchPlans asserts, with EXPLAIN QUERY PLAN, how each kind of staff
// search and the customer page's history read: the customers in the
// order of their sort key's index (a page stops the walk; no sort of
// them all), a code by its index, the history by ledger_by_entitlement.
// SQLite's LIKE '%…%' uses no index: a fragment is matched while walking.
func TestSearchPlans(t *testing.T) {
	s := openTemp(t)
	if _, err := s.db.ExecContext(t.Context(), planRows); err != nil {
		t.Fatal(err)
	}
	walk := "SCAN customers USING INDEX sqlite_autoindex_customers_2"
	for _, c := range []struct {
		name string
		q    store.CustomerQuery
		want []string
	}{
		{"fragment", store.CustomerQuery{Text: "ент 4711"}, []string{walk, "entitlements_by_code_hint"}},
		// One customer, found by name, is all there is to sort.
		{"whole code", store.CustomerQuery{CodeHash: []byte("Клиент 77")}, []string{
			"SEARCH customers USING INDEX sqlite_autoindex_customers_1 (name=?)", "sqlite_autoindex_entitlements_1 (code_hash=?)"}},
		{"next page", store.CustomerQuery{After: "Клиент 5"}, []string{"SEARCH customers USING INDEX sqlite_autoindex_customers_2 (sort_key>?)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			query, args := s.SearchQuery(c.q)
			checkPlan(t, s, storesql.SQLitePlaceholders(query), args, c.want)
		})
	}
	t.Run("customer page", func(t *testing.T) {
		checkPlan(t, s, LedgerPageSQL, []any{int64(77), int64(1 << 40), 201}, []string{"SEARCH ledger USING INDEX ledger_by_entitlement (entitlement_id=? AND id<?)"})
	})
}

// checkPlan runs EXPLAIN QUERY PLAN and fails unless every line of want is
// in it, and it reads neither customers nor the ledger whole, nor sorts
// in a temporary b-tree more than the customers found by name.
func checkPlan(t *testing.T, s *Store, query string, args []any, want []string) {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	plan := b.String()
	for _, bad := range []string{"SCAN customers\n", "SCAN ledger", "USE TEMP B-TREE FOR ORDER BY"} {
		if strings.Contains(plan, bad) && (bad != "USE TEMP B-TREE FOR ORDER BY" || !strings.Contains(plan, "(name=?)")) {
			t.Errorf("the plan has %q:\n%s", strings.TrimSpace(bad), plan)
		}
	}
	for _, w := range want {
		if !strings.Contains(plan, w) {
			t.Errorf("the plan does not have %q:\n%s", w, plan)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("%s\n%s", query, plan)
	}
}
