package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // the driver aktuald's SQLite store uses

	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// sqliteTime is how the SQLite store writes the older tables' times
// (server/store/sqlite: timeLayout).
const sqliteTime = "2006-01-02T15:04:05.000000000Z"

// batch is the rows one transaction inserts.
const batch = 200_000

// fillSQLite fills an empty SQLite database through prepared inserts, a
// batch of rows a transaction, with synchronous off (a crash while it
// runs leaves a database to throw away, not a customer's).
func fillSQLite(ctx context.Context, g *gen, path string) error {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(OFF)")
	q.Add("_pragma", "foreign_keys(0)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close() //nolint:errcheck // read-only by then: every transaction has committed
	db.SetMaxOpenConns(1)
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM entitlements`).Scan(&n); err != nil {
		return fmt.Errorf("reading the database (was it made by aktuald init?): %w", err)
	}
	if n != 0 {
		return fmt.Errorf("the database has %d entitlements already: bigdb fills an empty one", n)
	}
	t0 := time.Now()
	if err := sqlitePeople(ctx, db, g); err != nil {
		return err
	}
	g.logf("customers and entitlements: %.1f s", time.Since(t0).Seconds())
	t0 = time.Now()
	if err := sqliteHistory(ctx, db, g); err != nil {
		return err
	}
	g.logf("reservations and ledger: %.1f s", time.Since(t0).Seconds())
	t0 = time.Now()
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	g.logf("analyze: %.1f s", time.Since(t0).Seconds())
	return nil
}

// inserts runs insert(tx, i) for i in [0, n), a batch a transaction.
func inserts(ctx context.Context, db *sql.DB, query string, n int, args func(i int) []any) error {
	for from := 0; from < n; from += batch {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, query)
		if err != nil {
			_ = tx.Rollback() // the prepare's error is the one to report
			return err
		}
		for i := from; i < min(from+batch, n); i++ {
			if _, err := st.ExecContext(ctx, args(i)...); err != nil {
				_ = tx.Rollback() // the insert's error is the one to report
				return fmt.Errorf("row %d: %w", i, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func sqlitePeople(ctx context.Context, db *sql.DB, g *gen) error {
	now := g.now.UnixNano()
	for _, d := range distributors {
		if _, err := db.ExecContext(ctx, `INSERT INTO distributors (name, created_at) VALUES (?, ?)`, d, now); err != nil {
			return err
		}
	}
	err := inserts(ctx, db, `INSERT INTO customers (name, name_fold, vat, vat_fold, distributor, sort_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, g.sizes.Customers, func(i int) []any {
		c := g.customer(i)
		return []any{c.Name, store.Fold(c.Name), c.VAT, store.Fold(c.VAT), nullable(c.Distributor), storesql.SortKey(c.Name), c.Created.UnixNano()}
	})
	if err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	err = inserts(ctx, db, `INSERT INTO entitlements (id, customer, series, kind, code_hash, code_hint, hwkey_serial,
		purchased, remaining, held, consumed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		len(g.plans), func(i int) []any {
			e, p := g.entitlement(i), g.plans[i]
			row := []any{int64(i + 1), e.customer.Name, "pro", "code", nil, "", nil, p.Purchased(), p.Remaining, p.Held, p.Updates,
				e.customer.Created.Format(sqliteTime), g.now.Format(sqliteTime)}
			if e.serial == "" {
				row[4], row[5] = keyring.CodeHash(g.secret, e.customer.Code), e.customer.Code.LastGroup()
			} else {
				row[2], row[3], row[6] = "classic", "hwkey", e.serial
			}
			return row
		})
	if err != nil {
		return fmt.Errorf("entitlements: %w", err)
	}
	return nil
}
