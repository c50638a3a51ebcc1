package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/internal/fileutil"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// integrityLimit bounds how many problems integrity_check reports.
const integrityLimit = 20

// Verify checks a database file that nothing else writes (a backup): the
// SQLite header and length, PRAGMA integrity_check and foreign_key_check,
// a schema version this build knows, and the audit, and counts what it
// holds. A file that is not a sound aktuald database is ErrNotBackup; one
// from a newer build is ErrNewerSchema. Audit violations are not an error:
// they are in Summary.Violations. The file is opened read-only.
func Verify(ctx context.Context, path string) (Summary, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Summary{}, err
	}
	return verify(ctx, abs, abs)
}

// verify checks the file at path (absolute) and names it name in the
// Summary and in messages: Backup and Restore check a copy in a temporary
// file but speak of the file the person named.
func verify(ctx context.Context, path, name string) (Summary, error) {
	sum := Summary{Path: name}
	fi, err := os.Stat(path)
	if err != nil {
		return sum, fmt.Errorf("reading %s: %w", name, err)
	}
	if fi.IsDir() {
		return sum, fmt.Errorf("%w: %s is a folder", ErrNotBackup, name)
	}
	sum.Size = fi.Size()
	if err := checkHeader(path, name, fi.Size()); err != nil {
		return sum, err
	}
	db, err := sql.Open("sqlite", readOnlyDSN(path))
	if err != nil {
		return sum, fmt.Errorf("opening %s: %w", name, err)
	}
	defer db.Close()
	notBackup := func(what string, err error) error {
		if isDamage(err) {
			return fmt.Errorf("%w: %s: %s: %v", ErrNotBackup, name, what, err)
		}
		return fmt.Errorf("%s: %s: %w", name, what, err)
	}

	problems, err := integrityCheck(ctx, db)
	if err != nil {
		return sum, notBackup("integrity check", err)
	}
	if len(problems) > 0 {
		sum.Integrity = strings.Join(problems, "; ")
		return sum, fmt.Errorf("%w: %s fails the integrity check: %s", ErrNotBackup, name, sum.Integrity)
	}
	sum.Integrity = "ok"
	var fkProblems int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&fkProblems); err != nil {
		return sum, notBackup("foreign key check", err)
	}
	if fkProblems > 0 {
		return sum, fmt.Errorf("%w: %s: %d rows refer to rows that do not exist", ErrNotBackup, name, fkProblems)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&sum.SchemaVersion); err != nil {
		return sum, notBackup("reading the schema version", err)
	}
	switch v := sum.SchemaVersion; {
	case v == 0:
		return sum, fmt.Errorf("%w: %s is an SQLite database, but not aktuald's (schema version 0)", ErrNotBackup, name)
	case v > len(migrations):
		return sum, fmt.Errorf("%w: %s has schema version %d, this aktuald knows up to %d; use a newer aktuald",
			ErrNewerSchema, name, v, len(migrations))
	}
	err = db.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM entitlements), (SELECT count(*) FROM releases), (SELECT count(*) FROM ledger),
		       coalesce(sum(purchased), 0), coalesce(sum(remaining), 0), coalesce(sum(held), 0),
		       coalesce(sum(consumed), 0), coalesce(sum(overdraft), 0)
		FROM entitlements`).Scan(&sum.Entitlements, &sum.Releases, &sum.LedgerRows,
		&sum.Purchased, &sum.Remaining, &sum.Held, &sum.Consumed, &sum.Overdraft)
	if err != nil {
		return sum, notBackup("counting", err)
	}
	ro := newStore(db)
	if sum.Violations, err = ro.Audit(ctx); err != nil {
		return sum, notBackup("auditing", err)
	}
	if sum.SHA256, err = fileutil.SHA256(path); err != nil {
		return sum, fmt.Errorf("hashing %s: %w", name, err)
	}
	return sum, nil
}

// readOnlyDSN opens abs read-only and immutable: no locks, no -wal or -shm
// made beside a backup, and no write can reach it.
func readOnlyDSN(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("immutable", "1")
	q.Add("_pragma", "query_only(1)")
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkHeader refuses, with a clear reason, a file that is not an SQLite
// database or is shorter than its header says (a copy cut short), before
// SQLite gives a vaguer answer.
func checkHeader(path, name string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	defer f.Close()
	h := make([]byte, 100)
	if n, _ := io.ReadFull(f, h); n < len(h) || !bytes.Equal(h[:16], sqliteMagic) {
		return fmt.Errorf("%w: %s is not an SQLite database (no SQLite header); give a file written by aktuald admin backup", ErrNotBackup, name)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("%w: %s has a damaged header (page size %d)", ErrNotBackup, name, pageSize)
	}
	// The page count in the header is valid when its version-valid-for
	// number matches the change counter (SQLite file format, 1.3.7).
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	valid := binary.BigEndian.Uint32(h[92:96]) == binary.BigEndian.Uint32(h[24:28])
	if want := pages * pageSize; valid && pages > 0 && size < want {
		return fmt.Errorf("%w: %s is cut short: %d bytes, its header says %d; use a complete copy", ErrNotBackup, name, size, want)
	}
	if size%pageSize != 0 {
		return fmt.Errorf("%w: %s is cut short or padded: %d bytes is not a whole number of %d-byte pages", ErrNotBackup, name, size, pageSize)
	}
	return nil
}

func integrityCheck(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf("PRAGMA integrity_check(%d)", integrityLimit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	return problems, rows.Err()
}

// isDamage reports whether err is SQLite saying the file is not a sound
// database (rather than, say, a cancelled context).
func isDamage(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_ERROR, sqlite3.SQLITE_FORMAT:
		return true
	}
	return false
}
