package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store/storesql"
)

// shared is a querier (the pool or a transaction) as the queries in
// package storesql see it; their text is PostgreSQL's already.
type shared struct{ q querier }

func (s shared) Query(ctx context.Context, query string, args ...any) (storesql.Rows, error) {
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (s shared) QueryRow(ctx context.Context, query string, args ...any) storesql.Row {
	return s.q.QueryRow(ctx, query, args...)
}

func (s shared) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := s.q.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// planned is shared, but each query is planned for its arguments (pgx's
// exec mode: an unnamed statement, bound and planned at once): the staff
// search's best plan depends on how common the typed fragment is, and a
// cached generic plan would pick one for every fragment.
type planned struct{ q querier }

func (p planned) Query(ctx context.Context, query string, args ...any) (storesql.Rows, error) {
	return shared(p).Query(ctx, query, append([]any{pgx.QueryExecModeExec}, args...)...)
}

func (p planned) QueryRow(ctx context.Context, query string, args ...any) storesql.Row {
	return shared(p).QueryRow(ctx, query, append([]any{pgx.QueryExecModeExec}, args...)...)
}

func (p planned) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return shared(p).Exec(ctx, query, append([]any{pgx.QueryExecModeExec}, args...)...)
}
