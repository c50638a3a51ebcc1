package storesql

import (
	"strings"
	"unicode/utf8"

	"github.com/aktual/aktual/server/store"
)

// searchWalk is how many customers, in name order, the first try of a
// text search on PostgreSQL reads (WalkQuery).
const searchWalk = 20000

// WalkQuery is the first try of a text search on PostgreSQL (ok false
// when cq is not searched so): the customers in name order, at most
// searchWalk of them, each matched as it comes, until a page and one more
// are found. When it finds them, they are the search's answer: every
// later match sorts after them. When it does not (the text is rare among
// the names walked), Customers asks SearchQuery, which finds every match
// through the trigram indexes and sorts them; that is quick for rare
// text and slow for common text (tens of thousands of matches fetched
// and sorted: "инвест", "Иван" at a million customers), where the walk
// stops after a thousand names or so (docs/benchmarks.md, "Issue 21: a
// million customers").
func (s StaffStore) WalkQuery(cq store.CustomerQuery) (query string, args []any, ok bool) {
	text := strings.TrimSpace(cq.Text)
	if !s.Postgres || utf8.RuneCountInString(text) < 3 || len(cq.CodeHash) != 0 {
		return "", nil, false
	}
	var w filter
	if cq.After != "" {
		w.and("sort_key > " + w.arg(SortKey(cq.After)))
	}
	if cq.Distributor != "" {
		w.and("distributor = " + w.arg(cq.Distributor))
	}
	inner := `SELECT name, vat, coalesce(distributor, '') AS distributor, created_at, sort_key, name_fold, vat_fold
		FROM customers` + w.where() + ` ORDER BY sort_key LIMIT ` + w.arg(int64(searchWalk))
	folded, like, exact := w.arg(store.Fold(text)), w.arg(contains(store.Fold(text))), w.arg(text)
	match := `strpos(c.name_fold, ` + folded + `) <> 0 OR strpos(c.vat_fold, ` + folded + `) <> 0
		OR ` + s.inCustomers(`SELECT customer FROM entitlements WHERE code_hint = `+exact+`
		UNION ALL SELECT customer FROM entitlements WHERE `+s.contains("lower(hwkey_serial)", like, folded))
	return `SELECT name, vat, distributor, created_at FROM (` + inner + `) c WHERE ` + match + `
		ORDER BY sort_key LIMIT ` + w.arg(int64(cq.PageSize()+1)), w.args, true
}
