// Package sqlite is the embedded store: one SQLite file through the pure-Go
// driver modernc.org/sqlite, so CGO_ENABLED=0 builds work.
//
// Concurrency. Every transaction that may write begins IMMEDIATE (the
// driver's _txlock=immediate DSN option): it takes the write lock before it
// reads, so a second writer waits on busy_timeout instead of failing with
// SQLITE_BUSY when it tries to upgrade a read lock that another writer has
// made stale. Inside one process writers also take turns on a channel, so
// they queue in Go rather than poll SQLite's busy handler; busy_timeout then
// only matters between processes (aktuald serve and an admin command).
// Writers that queue while another commits are committed together, each
// in a savepoint of its own (group commit, write.go).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// busyTimeout bounds how long a writer waits for another process's
// transaction before giving up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Store is a store.Store in one SQLite file. Safe for concurrent use.
type Store struct {
	// StaffStore is the staff tables' shared SQL (storesql), run on db and
	// through write.
	storesql.StaffStore
	// ReportStore is the field reports' shared SQL, on the same.
	storesql.ReportStore

	db *sql.DB
	// writer holds one token: in-process writers take it in turn, and
	// the one holding it commits for those queued in writes (write.go).
	writer chan struct{}
	writes writeQueue
	// stmts keeps the request path's statements prepared (see prepared.go).
	stmts stmtCache
}

var _ store.Store = (*Store)(nil)

// Open opens the database at path, creating it and its schema on first use
// and migrating an older schema. The directory must exist: the caller
// chooses where data lives and creates it.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("opening database: no path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("opening database %s: directory %s does not exist; create it first", path, dir)
	case err != nil:
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("opening database %s: %s is not a directory", path, dir)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	// Readers run side by side (WAL). database/sql keeps 2 idle
	// connections by default and closes the rest when a burst of reads
	// ends, so under load most reads opened a connection and set its
	// pragmas first: a fresh "latest" answer to an installer spent a
	// third of its time so (docs/benchmarks.md, "Issue 21"). The pool is
	// bounded instead, and its connections stay open for a minute of
	// idleness; a read beyond the bound waits for a connection.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(time.Minute)
	s := newStore(db)
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	return s, nil
}

// maxConns bounds the pool: far more readers than cores at once, and
// room for the one writer and the statements it prepares on a connection
// of its own while it holds another (prepared.go).
const maxConns = 64

// newStore is a Store on db.
func newStore(db *sql.DB) *Store {
	s := &Store{db: db, writer: make(chan struct{}, 1)}
	s.StaffStore = storesql.StaffStore{
		DB: shared{db},
		Write: func(ctx context.Context, fn func(context.Context, storesql.Querier) error) error {
			return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return fn(ctx, shared{tx}) })
		},
	}
	s.ReportStore = storesql.ReportStore{SQL: s.StaffStore}
	return s
}

// dsn builds a file: URI for abs. The pragmas are DSN parameters, not
// statements run once, because database/sql opens connections as it
// pleases and each must have them.
func dsn(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:/C:/dir/aktual.db
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// FULL, not WAL's usual NORMAL: a reservation committed and answered
	// must survive a power cut, or a paid update could be spent twice.
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	// EscapedPath keeps '/' but escapes '?', '#' and '%', which SQLite's
	// URI parser would otherwise take for the query, fragment or an escape.
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// Ping runs a trivial query, so it fails when the file cannot be read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("pinging database: %w", err)
	}
	return nil
}

// Close closes the database and the statements prepared on it.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

// querier is what both *sql.DB and *sql.Tx offer, so a lookup can run
// alone or inside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// read runs fn in a read-only transaction: one consistent snapshot for
// lookups that take several queries (Audit). It takes no write lock.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // plain BEGIN
	if err != nil {
		return fmt.Errorf("beginning read transaction: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// constraint failure.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// timeLayout is fixed-width UTC, so stored times compare correctly as text
// (the expiry sweep relies on it) and stay readable to staff using sqlite3.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}
