package sqlite

import (
	"context"

	"database/sql"
	"github.com/aktual/aktual/server/store/storesql"
)

// shared is a querier (the database, a transaction or the prepared
// statements) as the queries in package storesql see it: their $n
// placeholders become SQLite's ?n.
type shared struct{ q querier }

func (s shared) Query(ctx context.Context, query string, args ...any) (storesql.Rows, error) {
	rows, err := s.q.QueryContext(ctx, storesql.SQLitePlaceholders(query), args...)
	if err != nil {
		return nil, err
	}
	return &sharedRows{Rows: rows}, nil
}

func (s shared) QueryRow(ctx context.Context, query string, args ...any) storesql.Row {
	return s.q.QueryRowContext(ctx, storesql.SQLitePlaceholders(query), args...)
}

func (s shared) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, storesql.SQLitePlaceholders(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sharedRows is *sql.Rows with pgx's Close, which returns nothing: what
// Close fails with, Err reports.
type sharedRows struct {
	*sql.Rows
	closeErr error
}

func (r *sharedRows) Close() {
	if err := r.Rows.Close(); err != nil && r.closeErr == nil {
		r.closeErr = err
	}
}

func (r *sharedRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}
