// Package postgres is the store for several aktuald replicas on one
// PostgreSQL database, through github.com/jackc/pgx/v5 (pgxpool). It
// behaves exactly as the embedded SQLite store: both pass storetest.
//
// Concurrency. The replicas are separate processes, so nothing in Go can
// make them take turns: every transaction that writes runs at READ
// COMMITTED and takes the row locks it needs before it decides anything.
// A reservation locks its entitlement row (SELECT … FOR NO KEY UPDATE)
// and decrements with remaining = remaining - 1, which the schema's CHECK
// (remaining >= 0) refuses below zero; a completion, release or expiry
// locks the reservation row, then the entitlement's. An existing reservation is always locked before its
// entitlement, never after, and the sweep, the one transaction that locks
// several entitlements, locks them in ascending id, so replicas do not
// deadlock in practice; should PostgreSQL still report a deadlock (40P01) or a
// serialization failure (40001: not expected at READ COMMITTED, retried
// all the same), the whole transaction is run again, a bounded number of
// times, after a short random pause (see retry). Inserts that may race a
// replica's (an idempotency key, a new customer, a product, a release) are
// ON CONFLICT DO NOTHING followed by a read of the row that won, so the
// loser answers as if it had come second rather than failing.
//
// Round trips. Each costs CPU in pgx and in a backend, and CPU is what
// limits the server (docs/benchmarks.md), so the busiest operations spend
// few: the common reserve is one statement committed on its own
// (reserveAtOnceSQL), any other sends its BEGIN with its lookups and its
// COMMIT with one statement that does all its writes (pipelined,
// reserveSQL), and the completion of a held reservation is one statement
// (finishSQL). TestRoundTrips keeps count.
//
// Times. PostgreSQL's timestamptz keeps microseconds, Go's time.Time
// nanoseconds. Every time is stored as a timestamptz truncated to the
// microsecond plus a smallint "_ns" column with the nanoseconds below it,
// so a time round-trips exactly (the conformance suite compares times to the
// nanosecond, as the SQLite store keeps them) while staff still read and
// index real timestamps.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// maxAttempts bounds how often a transaction is run when PostgreSQL asks
// for a retry (serialization failure, deadlock).
const maxAttempts = 10

// Store is a store.Store on a PostgreSQL database. Safe for concurrent use,
// by several goroutines and by several processes on one database.
type Store struct {
	// StaffStore is the staff tables' shared SQL (storesql), run on the
	// pool and through write.
	storesql.StaffStore
	// ReportStore is the field reports' shared SQL, on the same.
	storesql.ReportStore

	pool *pgxpool.Pool
	// secret is the URL's password, scrubbed from every error the store returns.
	secret string
	// notices: see Notices.
	notices []string
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at rawURL (postgres:// or postgresql://,
// with pgx's parameters: pool_max_conns sets the pool size, sslmode the
// TLS mode…), creates the schema on first use and migrates an older one.
// Errors never carry the URL's password.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	where, secret := describeURL(rawURL)
	fail := func(err error) error {
		return scrub(fmt.Errorf("opening PostgreSQL database %s: %w", where, err), secret)
	}
	if !strings.HasPrefix(rawURL, "postgres://") && !strings.HasPrefix(rawURL, "postgresql://") {
		return nil, fail(errors.New("the URL must start with postgres:// or postgresql://"))
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fail(err)
	}
	if p := cfg.ConnConfig.Password; p != "" {
		secret = p // from the URL, or PGPASSWORD, or a password file
	}
	s, err := openConfig(ctx, cfg, secret)
	if err != nil {
		return nil, fail(err)
	}
	return s, nil
}

// openConfig is Open once the URL is parsed: tests set what a URL cannot
// (a dialer that counts round trips) on cfg.
func openConfig(ctx context.Context, cfg *pgxpool.Config, secret string) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting: %w", err)
	}
	s := &Store{pool: pool, secret: secret}
	s.StaffStore = storesql.StaffStore{
		DB:       shared{pool},
		Search:   planned{pool},
		Postgres: true,
		Write: func(ctx context.Context, fn func(context.Context, storesql.Querier) error) error {
			return s.write(ctx, func(tx pgx.Tx) error { return fn(ctx, shared{tx}) })
		},
		Clean: func(err error) error { return scrub(err, secret) },
	}
	s.ReportStore = storesql.ReportStore{SQL: s.StaffStore}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.ensureSearchIndexes(ctx); err != nil {
		pool.Close()
		return nil, scrub(err, secret)
	}
	return s, nil
}

// describeURL returns how errors name the database (host and database,
// never user info or parameters) and the password the URL carries.
func describeURL(rawURL string) (where, password string) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)", ""
	}
	password, _ = u.User.Password()
	return u.Host + u.Path, password
}

// scrub removes secret from err's message. Below four characters a
// password is no secret worth garbling messages for.
func scrub(err error, secret string) error {
	if err == nil || len(secret) < 4 {
		return err
	}
	msg := err.Error()
	clean := msg
	for _, s := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		clean = strings.ReplaceAll(clean, s, "xxxxx")
	}
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

// scrubbedError is an error whose message had a password taken out; the
// sentinels underneath still match errors.Is.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// Ping runs a trivial query, so it fails when the database cannot answer.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return scrub(fmt.Errorf("pinging database: %w", err), s.secret)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// querier is what both *pgxpool.Pool and pgx.Tx offer, so a lookup can run
// alone or inside a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// write runs fn in one READ COMMITTED transaction and commits it when fn
// returns nil; otherwise it rolls back and returns fn's error unchanged, so
// sentinels survive. A serialization failure or deadlock runs fn again in
// a new transaction (see retry): fn must start from nothing each time (it
// does: it only reads the database and sets its results).
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.retry(ctx, func() error { return s.attempt(ctx, fn) })
}

// retry runs attempt again while it fails with a serialization failure or
// deadlock, at most maxAttempts times in all, and scrubs what it returns.
func (s *Store) retry(ctx context.Context, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || !retryable(err) {
			return scrub(err, s.secret)
		}
		if n == maxAttempts {
			return scrub(fmt.Errorf("gave up after %d attempts: %w", n, err), s.secret)
		}
		// Full jitter: replicas that collided do not collide again in step.
		pause := time.Duration(rand.Int64N(int64(min(time.Millisecond<<n, 100*time.Millisecond))))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Store) attempt(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// read runs fn in a REPEATABLE READ, READ ONLY transaction: one snapshot
// for lookups that take several queries (Audit). It takes no locks.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return scrub(fmt.Errorf("beginning read transaction: %w", err), s.secret)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return scrub(fn(tx), s.secret)
}

// SQLSTATEs this package acts on.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUniqueViolation      = "23505"
	codeCheckViolation       = "23514"
)

// retryable reports whether PostgreSQL rolled the transaction back only
// because of what ran beside it, so running it again may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected)
}

// uniqueViolation returns the name of the UNIQUE constraint or index err
// broke, or "" when err is something else.
func uniqueViolation(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeUniqueViolation {
		return pe.ConstraintName
	}
	return ""
}

// storedTime splits t for a (timestamptz, smallint) column pair: the UTC
// time truncated to the microsecond PostgreSQL keeps, and the nanoseconds
// below it (0–999).
func storedTime(t time.Time) (time.Time, int16) {
	t = t.UTC()
	ns := t.Nanosecond() % 1000
	return t.Add(-time.Duration(ns)), int16(ns)
}

// loadedTime joins what storedTime split, in UTC.
func loadedTime(t time.Time, ns int16) time.Time {
	return t.UTC().Add(time.Duration(ns))
}
