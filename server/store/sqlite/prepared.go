package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// The request path's statements are prepared once and kept, because the
// driver otherwise parses the SQL of every call afresh: a fifth of the CPU
// of a reserve and complete. database/sql prepares a kept statement again
// on each connection that runs it, once, and Tx.StmtContext reuses the one
// already prepared on the transaction's connection.

// stmtCache holds prepared statements by query text. Every query text is a
// constant of this package, so the cache stays as small as the package.
// The zero value is ready to use.
type stmtCache struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	closed bool
}

// get returns the statement for query, preparing it on db the first time;
// nil when it cannot be prepared, and the caller runs query unprepared, so
// that any error is the one it always was.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	st, closed := c.stmts[query], c.closed
	c.mu.Unlock()
	if st != nil || closed {
		return st
	}
	// Prepared without the lock, on a connection of its own: inside a
	// transaction, which holds one, the pool must be able to open another
	// (maxConns leaves room: only the one writer prepares inside a
	// transaction; under SetMaxOpenConns(1) this would wait until ctx ends).
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		st.Close()
		return nil
	}
	if prior, ok := c.stmts[query]; ok { // another caller prepared it meanwhile
		st.Close()
		return prior
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st
}

// close closes every statement; get prepares none after it.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// preparedQuerier runs each query through s's prepared statements, in tx
// or, when tx is nil, on the database.
type preparedQuerier struct {
	s  *Store
	tx *sql.Tx
}

// prepared returns a querier for tx (nil: the database) that runs each
// query through the store's prepared statements.
func (s *Store) prepared(tx *sql.Tx) querier { return preparedQuerier{s: s, tx: tx} }

// stmt returns query's statement for this querier, or nil to run it
// unprepared.
func (q preparedQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	st := q.s.stmts.get(ctx, q.s.db, query)
	if st == nil || q.tx == nil {
		return st
	}
	return q.tx.StmtContext(ctx, st)
}

// plain is the querier that runs queries unprepared.
func (q preparedQuerier) plain() querier {
	if q.tx != nil {
		return q.tx
	}
	return q.s.db
}

func (q preparedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.plain().ExecContext(ctx, query, args...)
}

func (q preparedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.plain().QueryContext(ctx, query, args...)
}

func (q preparedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.plain().QueryRowContext(ctx, query, args...)
}
