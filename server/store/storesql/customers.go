package storesql

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aktual/aktual/server/store"
)

// Customers. Each is stored with its name and VAT number folded in Go
// (store.Fold), which the search matches, and a sort key of bytes (the
// folded name, a zero byte, the name) that orders them alike in both
// databases, whatever PostgreSQL's collation: by the code points of the
// lower-case name, which for Bulgarian is its alphabet's order.

// SortKey is the sort key of a customer's name.
func SortKey(name string) []byte {
	k := append([]byte(store.Fold(name)), 0)
	return append(k, name...)
}

const customerColumns = `name, vat, coalesce(distributor, ''), created_at`

func scanCustomer(r Row) (store.Customer, error) {
	var (
		c       store.Customer
		created int64
	)
	err := r.Scan(&c.Name, &c.VAT, &c.Distributor, &created)
	c.CreatedAt = Time(created)
	return c, err
}

// CustomerIn finds a customer in q's transaction: store.ErrNotFound when
// none.
func CustomerIn(ctx context.Context, q Querier, name string) (store.Customer, error) {
	c, err := scanCustomer(q.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE name = $1`, name))
	return c, one(err, "customer "+name)
}

// EnsureCustomer records customer c unless there is one of its name, and
// returns the customer as stored and whether it is new. A new customer's
// distributor must have been added (store.ErrNotFound). Run it in the
// transaction of the activation that makes the customer's first
// entitlement.
func EnsureCustomer(ctx context.Context, q Querier, c store.Customer) (store.Customer, bool, error) {
	if err := checkDistributor(ctx, q, c.Distributor); err != nil {
		return store.Customer{}, false, err
	}
	c.CreatedAt = store.OrNow(c.CreatedAt)
	n, err := q.Exec(ctx, `
		INSERT INTO customers (name, name_fold, vat, vat_fold, distributor, sort_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		c.Name, store.Fold(c.Name), c.VAT, store.Fold(c.VAT), nullText(c.Distributor), SortKey(c.Name), Nanos(c.CreatedAt))
	if err != nil {
		return store.Customer{}, false, fmt.Errorf("recording customer %s: %w", c.Name, err)
	}
	if n == 1 {
		return c, true, nil
	}
	stored, err := CustomerIn(ctx, q, c.Name)
	return stored, false, err
}

// Customer finds a customer by exact name: store.ErrNotFound when none.
func (s StaffStore) Customer(ctx context.Context, name string) (store.Customer, error) {
	c, err := CustomerIn(ctx, s.DB, name)
	return c, s.clean(err)
}

// likeEscaper escapes what LIKE takes for wildcards, with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// contains is the LIKE pattern of text anywhere.
func contains(text string) string { return "%" + likeEscaper.Replace(text) + "%" }

// Customers searches customers (see store.CustomerQuery) and returns a
// page, and the name to pass as After for the next ("" after the last).
func (s StaffStore) Customers(ctx context.Context, cq store.CustomerQuery) ([]store.Customer, string, error) {
	query, args := s.SearchQuery(cq)
	db := s.DB
	if s.Search != nil {
		db = s.Search
	}
	rows, err := db.Query(ctx, query, args...)
	page, err := collect(rows, err, "searching customers", scanCustomer)
	if err != nil {
		return nil, "", s.clean(err)
	}
	next := ""
	if n := cq.PageSize(); len(page) > n {
		page = page[:n]
		next = page[n-1].Name
	}
	return page, next, nil
}

// SearchQuery is the query Customers runs for cq, and its arguments: one
// row more than a page, which says there is a next page. The plan tests
// EXPLAIN it.
func (s StaffStore) SearchQuery(cq store.CustomerQuery) (string, []any) {
	var w filter
	if cq.After != "" {
		w.and("sort_key > " + w.arg(SortKey(cq.After)))
	}
	if cq.Distributor != "" {
		w.and("distributor = " + w.arg(cq.Distributor))
	}
	if text := strings.TrimSpace(cq.Text); text != "" {
		// Serials are ASCII: the databases' lower() folds them.
		like, exact, folded := w.arg(contains(store.Fold(text))), w.arg(text), ""
		if s.Postgres {
			folded = w.arg(store.Fold(text))
		}
		w.and(`(` + s.contains("name_fold", like, folded) + ` OR ` + s.contains("vat_fold", like, folded) + `
			OR ` + s.inCustomers(`SELECT customer FROM entitlements WHERE code_hint = `+exact+`
			UNION ALL SELECT customer FROM entitlements WHERE `+s.contains("lower(hwkey_serial)", like, folded)) + `)`)
	}
	if len(cq.CodeHash) != 0 {
		w.and(s.inCustomers("SELECT customer FROM entitlements WHERE code_hash = " + w.arg(cq.CodeHash)))
	}
	limit := w.arg(int64(cq.PageSize() + 1))
	if s.Postgres && utf8.RuneCountInString(strings.TrimSpace(cq.Text)) >= 3 {
		// Every match through the trigram indexes, then the page of them:
		// the work grows with the matches. Left to itself the planner
		// walks the names in order when it expects many matches, which
		// is quick when they are spread over the alphabet and reads half
		// the table when they are not (every ЕТ „…“ sorts together).
		// Shorter text makes no trigram: there, walking is the best plan.
		return `WITH found AS MATERIALIZED (SELECT name, vat, coalesce(distributor, '') AS distributor, created_at, sort_key
			FROM customers` + w.where() + `)
			SELECT name, vat, distributor, created_at FROM found ORDER BY sort_key LIMIT ` + limit, w.args
	}
	return `SELECT ` + customerColumns + ` FROM customers` + w.where() + ` ORDER BY sort_key LIMIT ` + limit, w.args
}

// contains is the condition "column holds text", given as like (the LIKE
// pattern of it anywhere) and text itself. On PostgreSQL the LIKE is on
// TrigramKey, which the trigram indexes are made on: the index finds the
// candidates, and strpos keeps the right ones. strpos(…) <> 0 rather than
// a second LIKE because the planner takes it to keep nearly every row, so
// the number of matches it expects is the trigram LIKE's alone; with two
// LIKEs it multiplies their selectivities, expects a common fragment to be
// rare, and reads the table where walking the names in order would stop
// after a page.
func (s StaffStore) contains(column, like, text string) string {
	if !s.Postgres {
		return column + ` LIKE ` + like + ` ESCAPE '\'`
	}
	return `(` + TrigramKey(column) + ` LIKE ` + TrigramKey(like) + ` ESCAPE '\' AND strpos(` + column + `, ` + text + `) <> 0)`
}

// TrigramKey is the expression PostgreSQL's trigram indexes of the search
// are made on (schema version 10): the column with each Cyrillic letter
// written as one Latin letter. pg_trgm makes trigrams of the letters and
// digits of the database's character type, and under the C locale (a
// common choice, and .ci/postgres.sh's) Cyrillic letters are neither: a
// Bulgarian name would give no trigram at all, and every fragment of it
// would read the whole index. The mapping is letter for letter, so a
// fragment of a name maps to a fragment of the mapped name; where two
// letters map to one, the plain LIKE beside it drops what the index let
// through. Never change it: the indexes would no longer serve the search.
func TrigramKey(column string) string {
	return `translate(` + column + `, '` + cyrillic + `', '` + latin + `')`
}

// The letters TrigramKey maps, in order, and what to.
const (
	cyrillic = "абвгдежзийклмнопрстуфхцчшщъьюяѝё"
	latin    = "abvgdejziyklmnoprstufhcqwxayuaie"
)

// inCustomers is the condition "the customer is one of those sub
// selects": on PostgreSQL an array computed once (an InitPlan), which the
// planner can look up in the primary key and OR with other indexes in one
// bitmap, where name IN (subquery) would make it read every customer.
func (s StaffStore) inCustomers(sub string) string {
	if s.Postgres {
		return "name = ANY(ARRAY(" + sub + "))"
	}
	return "name IN (" + sub + ")"
}

// UpdateCustomer sets a customer's VAT number and distributor (one that
// was added, else store.ErrNotFound), with an audit event "customer" that
// says what changed; a change of nothing records nothing.
func (s StaffStore) UpdateCustomer(ctx context.Context, c store.Customer, a store.Actor) (store.Customer, error) {
	if err := a.Check(); err != nil {
		return store.Customer{}, err
	}
	var out store.Customer
	err := s.Write(ctx, func(ctx context.Context, q Querier) error {
		old, err := CustomerIn(ctx, q, c.Name)
		if err != nil {
			return err
		}
		if err := checkDistributor(ctx, q, c.Distributor); err != nil {
			return err
		}
		out = old
		out.VAT, out.Distributor = c.VAT, c.Distributor
		if out == old {
			return nil
		}
		if _, err := q.Exec(ctx, `UPDATE customers SET vat = $2, vat_fold = $3, distributor = $4 WHERE name = $1`,
			c.Name, c.VAT, store.Fold(c.VAT), nullText(c.Distributor)); err != nil {
			return fmt.Errorf("updating customer %s: %w", c.Name, err)
		}
		return InsertEvent(ctx, q, store.AuditEvent{Action: "customer", Customer: c.Name, Detail: customerDetail(old, out)}, a)
	})
	if err != nil {
		return store.Customer{}, s.clean(err)
	}
	return out, nil
}

func customerDetail(old, c store.Customer) string {
	none := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	var parts []string
	if old.VAT != c.VAT {
		parts = append(parts, "VAT "+none(old.VAT)+" → "+none(c.VAT))
	}
	if old.Distributor != c.Distributor {
		parts = append(parts, "distributor "+none(old.Distributor)+" → "+none(c.Distributor))
	}
	return strings.Join(parts, ", ")
}

// FoldCustomers sets every customer's folded name, VAT and sort key from
// its name and VAT. The migration that makes the customers table from the
// entitlements (schema version 6) runs it: SQL cannot fold as Go does.
func FoldCustomers(ctx context.Context, q Querier) error {
	rows, err := q.Query(ctx, `SELECT name, vat FROM customers`)
	all, err := collect(rows, err, "reading customers to fold", func(r Row) ([2]string, error) {
		var c [2]string
		return c, r.Scan(&c[0], &c[1])
	})
	if err != nil {
		return err
	}
	// Read whole first: a connection runs one statement at a time.
	for _, c := range all {
		if _, err := q.Exec(ctx, `UPDATE customers SET name_fold = $2, vat_fold = $3, sort_key = $4 WHERE name = $1`,
			c[0], store.Fold(c[0]), store.Fold(c[1]), SortKey(c[0])); err != nil {
			return fmt.Errorf("folding customer %s: %w", c[0], err)
		}
	}
	return nil
}

// filter builds a query's WHERE clause from conditions whose values are
// bound as $n arguments, never written into the text.
type filter struct {
	conds []string
	args  []any
}

// arg binds v and returns its placeholder.
func (f *filter) arg(v any) string {
	f.args = append(f.args, v)
	return fmt.Sprintf("$%d", len(f.args))
}

func (f *filter) and(cond string) { f.conds = append(f.conds, cond) }

// where is " WHERE …" of the conditions, "" for none.
func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}
