// Package storesql holds the SQL that the SQLite and PostgreSQL stores run
// alike: the query text, written once with PostgreSQL's numbered
// placeholders ($1, $2, …), and the scanning of its rows. Each store hands
// these functions a Querier over its own connection or transaction; the
// SQLite one rewrites the placeholders to SQLite's ?1, ?2, ….
//
// What differs between the databases stays in each store: transactions and
// locking (SQLite serialises writers, PostgreSQL locks rows and retries),
// how times are stored, and statements whose SQL really differs. The rules
// that need no database at all live in package store.
package storesql

import (
	"context"
	"strings"
	"sync"
)

// Querier runs a query in one store's transaction or on its database.
// Query text uses $n placeholders.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Exec returns the number of rows the statement changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
}

// Row is one row of a result: Scan returns an error that matches
// sql.ErrNoRows when there is none (pgx.ErrNoRows matches it too).
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set, as pgx.Rows has it: Close reports nothing, Err
// reports what went wrong, Close included.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// rewritten caches SQLitePlaceholders by query text. Query texts are this
// module's constants and the conditions built from them, so the cache
// stays as small as the set of statements.
var rewritten sync.Map

// SQLitePlaceholders rewrites $n to ?n: SQLite's numbered form, which binds
// the nth argument wherever it appears, as $n does in PostgreSQL. The
// shared queries carry no $ in string literals.
func SQLitePlaceholders(query string) string {
	if q, ok := rewritten.Load(query); ok {
		return q.(string)
	}
	q := strings.ReplaceAll(query, "$", "?")
	rewritten.Store(query, q)
	return q
}
