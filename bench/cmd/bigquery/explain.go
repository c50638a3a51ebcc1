package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/postgres"
	"github.com/aktual/aktual/server/store/storesql"
)

// explain prints EXPLAIN ANALYZE of one query of each kind on PostgreSQL,
// as the store runs them (for docs/benchmarks.md).
func explain(ctx context.Context, o options, w io.Writer) error {
	if !strings.HasPrefix(o.db, "postgres") {
		return fmt.Errorf("--explain needs --db postgres://…")
	}
	sample, err := readSample(o.sample)
	if err != nil {
		return err
	}
	in, err := datadir.Open(datadir.DataDir(o.data), o.db)
	if err != nil {
		return err
	}
	secret := in.Keys.CodeSecret
	_ = in.Close() // only the code secret was wanted
	conn, err := pgx.Connect(ctx, o.db)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) //nolint:errcheck // read only
	r := rand.New(rand.NewPCG(o.seed, 7))
	s := pickOne(r, sample)
	code, err := api.ParseCode(s.code)
	if err != nil {
		return err
	}
	pg := storesql.StaffStore{Postgres: true}
	var id int64
	if err := conn.QueryRow(ctx, `SELECT id FROM entitlements WHERE customer = $1 ORDER BY id LIMIT 1`, s.name).Scan(&id); err != nil {
		return err
	}
	type q struct {
		what, sql string
		args      []any
	}
	var qs []q
	for _, c := range []struct {
		what string
		cq   store.CustomerQuery
	}{
		{"name fragment", store.CustomerQuery{Text: nameFragment(r, s.name)}},
		{"VAT fragment", store.CustomerQuery{Text: fragment(r, s.vat[2:], 6, 6)}},
		{"code's last group", store.CustomerQuery{Text: s.code[len(s.code)-5:]}},
		{"whole code", store.CustomerQuery{CodeHash: keyring.CodeHash(secret, code)}},
		{"serial fragment", store.CustomerQuery{Text: fragment(r, firstSerial(sample)[3:], 5, 5)}},
	} {
		text, args := pg.SearchQuery(c.cq)
		qs = append(qs, q{fmt.Sprintf("%s (%q)", c.what, c.cq.Text), text, args})
	}
	qs = append(qs, q{fmt.Sprintf("customer page, entitlement %d", id), postgres.LedgerPageSQL, []any{id, int64(1) << 62, 201}})
	for _, x := range qs {
		rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF) "+x.sql, append([]any{pgx.QueryExecModeExec}, x.args...)...)
		if err != nil {
			return fmt.Errorf("%s: %w", x.what, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("%s: %w", x.what, err)
		}
		fmt.Fprintf(w, "%s:\n    %s\n\n", x.what, strings.Join(lines, "\n    "))
	}
	return nil
}

// firstSerial is the first serial in the sample.
func firstSerial(sample []sampled) string {
	for _, s := range sample {
		if s.serial != "" {
			return s.serial
		}
	}
	return "HK-0000001"
}
