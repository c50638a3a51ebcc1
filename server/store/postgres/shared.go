package postgres

import (
	"context"

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
