package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// bulkTables are the tables the generator fills: their indexes that back
// no constraint are dropped while it loads and made again after, which is
// several times quicker than keeping them up row by row.
var bulkTables = []string{"customers", "entitlements", "reservations", "ledger"}

// fillPostgres fills an empty aktual database (schema made by aktuald)
// through COPY and INSERT … SELECT generate_series: the customers and
// entitlements are made in Go (names, codes and their keyed hashes), the
// reservations and ledger rows by the database from each entitlement's
// plan (see connect for how the sessions load).
func fillPostgres(ctx context.Context, g *gen, url string) error {
	conn, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) //nolint:errcheck // closing after the work is committed
	var n int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM entitlements`).Scan(&n); err != nil {
		return fmt.Errorf("reading the database (was it made by aktuald init?): %w", err)
	}
	if n != 0 {
		return fmt.Errorf("the database has %d entitlements already: bigdb fills an empty one", n)
	}
	// Autovacuum would read the tables while they are written; they are
	// vacuumed once at the end.
	for _, t := range bulkTables {
		if _, err := conn.Exec(ctx, `ALTER TABLE `+t+` SET (autovacuum_enabled = false)`); err != nil {
			return err
		}
	}
	indexes, err := dropIndexes(ctx, conn)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := copyPeople(ctx, conn, g); err != nil {
		return fmt.Errorf("customers and entitlements: %w", err)
	}
	g.logf("customers and entitlements (COPY): %.1f s", time.Since(t0).Seconds())
	t0 = time.Now()
	if err := insertHistory(ctx, url, g); err != nil {
		return fmt.Errorf("reservations and ledger: %w", err)
	}
	g.logf("reservations and ledger (INSERT … SELECT, %d sessions): %.1f s", historySessions, time.Since(t0).Seconds())
	t0 = time.Now()
	for _, def := range indexes {
		if _, err := conn.Exec(ctx, def); err != nil {
			return fmt.Errorf("making an index again (%s): %w", def, err)
		}
	}
	g.logf("%d indexes made again: %.1f s", len(indexes), time.Since(t0).Seconds())
	t0 = time.Now()
	if _, err := conn.Exec(ctx, `DROP TABLE bigdb_plan`); err != nil {
		return err
	}
	for _, t := range bulkTables {
		if _, err := conn.Exec(ctx, `ALTER TABLE `+t+` RESET (autovacuum_enabled)`); err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) customers, entitlements, reservations, ledger`); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	g.logf("vacuum analyze: %.1f s", time.Since(t0).Seconds())
	return nil
}

// dropIndexes drops the bulk tables' indexes that back no constraint and
// returns the statements that make them again.
func dropIndexes(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, `
		SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
		ORDER BY i.indexname`, bulkTables)
	if err != nil {
		return nil, fmt.Errorf("listing indexes: %w", err)
	}
	type index struct{ name, def string }
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var x index
		return x, r.Scan(&x.name, &x.def)
	})
	if err != nil {
		return nil, fmt.Errorf("listing indexes: %w", err)
	}
	var defs []string
	for _, x := range all {
		if _, err := conn.Exec(ctx, `DROP INDEX `+pgx.Identifier{x.name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("dropping index %s: %w", x.name, err)
		}
		defs = append(defs, x.def)
	}
	return defs, nil
}

// copyPeople copies the distributors, customers, entitlements and the
// entitlements' plans (a table insertHistory reads, dropped at the end).
func copyPeople(ctx context.Context, conn *pgx.Conn, g *gen) error {
	now := store.OrNow(time.Time{}).UnixNano()
	for _, d := range distributors {
		if _, err := conn.Exec(ctx, `INSERT INTO distributors (name, created_at) VALUES ($1, $2)`, d, now); err != nil {
			return err
		}
	}
	// Unlogged, not temporary: the history's sessions all read it.
	if _, err := conn.Exec(ctx, `CREATE UNLOGGED TABLE bigdb_plan (id bigint, updates int, held int, remaining int, n int, created timestamptz)`); err != nil {
		return err
	}
	cust := g.sizes.Customers
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"customers"},
		[]string{"name", "name_fold", "vat", "vat_fold", "distributor", "sort_key", "created_at"},
		pgx.CopyFromFunc(counted(cust, func(i int) ([]any, error) {
			c := g.customer(i)
			return []any{c.Name, store.Fold(c.Name), c.VAT, store.Fold(c.VAT), nullable(c.Distributor),
				storesql.SortKey(c.Name), c.Created.UnixNano()}, nil
		}))); err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	total := cust + g.sizes.HWKeys
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"entitlements"},
		[]string{"id", "customer", "series", "kind", "code_hash", "code_hint", "hwkey_serial", "active",
			"purchased", "remaining", "held", "consumed", "created_at", "created_at_ns", "updated_at", "updated_at_ns"},
		pgx.CopyFromFunc(counted(total, func(i int) ([]any, error) {
			e := g.entitlement(i)
			p := g.plans[i]
			row := []any{int64(i + 1), e.customer.Name, "pro", "code", nil, "", nil, true,
				int64(p.Purchased()), int64(p.Remaining), int64(p.Held), int64(p.Updates),
				e.customer.Created, int16(0), g.now, int16(0)}
			if e.serial == "" {
				row[4], row[5] = keyring.CodeHash(g.secret, e.customer.Code), e.customer.Code.LastGroup()
			} else {
				row[2], row[3], row[6] = "classic", "hwkey", e.serial
			}
			return row, nil
		}))); err != nil {
		return fmt.Errorf("entitlements: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT setval(pg_get_serial_sequence('entitlements', 'id'), $1)`, total); err != nil {
		return err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bigdb_plan"}, []string{"id", "updates", "held", "remaining", "n", "created"},
		pgx.CopyFromFunc(counted(total, func(i int) ([]any, error) {
			p := g.plans[i]
			return []any{int64(i + 1), p.Updates, p.Held, p.Remaining, p.Updates + p.Held, g.entitlement(i).customer.Created}, nil
		}))); err != nil {
		return fmt.Errorf("plans: %w", err)
	}
	_, err := conn.Exec(ctx, `CREATE INDEX ON bigdb_plan (n); ANALYZE bigdb_plan`)
	return err
}

// counted is a CopyFromFunc source of n rows, row(i) for i from 0.
func counted(n int, row func(i int) ([]any, error)) func() ([]any, error) {
	i := 0
	return func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		return row(i - 1)
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// connect opens a session for the load: foreign keys not checked row by
// row (session_replication_role = replica, which needs a superuser; the
// audit checks the result), commits not waited for, room to sort.
func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	for _, s := range []string{`SET session_replication_role = replica`, `SET synchronous_commit = off`,
		`SET maintenance_work_mem = '512MB'`, `SET work_mem = '64MB'`} {
		if _, err := conn.Exec(ctx, s); err != nil {
			_ = conn.Close(ctx) // the SET's error is the one to report
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	return conn, nil
}
