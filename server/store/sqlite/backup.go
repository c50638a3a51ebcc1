package sqlite

// Backups and restore of the embedded database.
//
// A backup is one SQLite file written by VACUUM INTO: a snapshot taken in
// one read transaction, so it is consistent (every entitlement's counts
// agree with its reservations and ledger as of one instant), and in WAL
// mode writers keep committing while it is written. It appears under its
// name only once written, synced and checked, so a backup cut short never
// looks complete.
//
// A restore checks the backup, then renames a checked copy of it over the
// database, keeping the database it replaces beside it; the caller must
// first make sure no server uses the database (server.LockDatabase).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aktual/aktual/server/store"
)

// Conditions of a backup or restore that the caller acts on. The wrapping
// error says which file and what to do.
var (
	ErrNoDatabase      = errors.New("no database")
	ErrBackupExists    = errors.New("the backup file already exists")
	ErrBackupPath      = errors.New("the backup cannot be written there")
	ErrNotBackup       = errors.New("not a usable aktuald database")
	ErrNewerSchema     = errors.New("the database's schema is newer than this aktuald knows")
	ErrViolations      = errors.New("the backup fails the audit")
	ErrInUse           = errors.New("the database is in use")
	ErrWouldLoseLedger = errors.New("restoring would lose ledger rows")
)

// restoreLockWait bounds how long a restore waits for another process's
// transaction on the database before it gives up with ErrInUse.
const restoreLockWait = 2 * time.Second

// integrityLimit bounds how many problems integrity_check reports.
const integrityLimit = 20

// Summary describes a checked database file.
type Summary struct {
	Path          string // absolute
	Size          int64
	SHA256        string // lowercase hex of the file's bytes
	SchemaVersion int
	Integrity     string // "ok", or what PRAGMA integrity_check found
	Entitlements  int64
	Releases      int64
	LedgerRows    int64
	// Totals over every entitlement.
	Purchased, Remaining, Held, Consumed, Overdraft int64
	Violations                                      []store.Violation // Audit's findings; none when OK
}

// Backup writes a consistent copy of the database at dbPath to out (see
// (*Store).Backup). It opens the database without migrating it, so a
// server of an older build may go on using it.
func Backup(ctx context.Context, dbPath, out string, force bool) (Summary, error) {
	s, err := openExisting(dbPath)
	if err != nil {
		return Summary{}, err
	}
	defer s.Close()
	return s.Backup(ctx, out, force)
}

// openExisting opens a database that must already exist, without migrating.
func openExisting(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w at %s: is --data (or --db) right? the server creates the database on its first start", ErrNoDatabase, abs)
	case err != nil:
		return nil, fmt.Errorf("opening database %s: %w", abs, err)
	case fi.IsDir():
		return nil, fmt.Errorf("%w at %s: it is a folder", ErrNoDatabase, abs)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", abs, err)
	}
	return &Store{db: db, writer: make(chan struct{}, 1)}, nil
}

// Backup writes a consistent copy of the database to out and checks it
// (see Verify): out appears only complete, synced and checked. An existing
// out is ErrBackupExists unless force. A copy that fails integrity_check is
// removed (ErrNotBackup: the database itself is likely damaged); one with
// audit violations is kept, as a faithful copy, with the violations in the
// Summary.
func (s *Store) Backup(ctx context.Context, out string, force bool) (sum Summary, err error) {
	if out == "" {
		return Summary{}, fmt.Errorf("%w: no file name given", ErrBackupPath)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return Summary{}, fmt.Errorf("%w: %s: %v", ErrBackupPath, out, err)
	}
	if fi, err := os.Stat(abs); err == nil {
		if fi.IsDir() {
			return Summary{}, fmt.Errorf("%w: %s is a folder; give the backup's file name", ErrBackupPath, abs)
		}
		if !force {
			return Summary{}, fmt.Errorf("%w: %s; choose another name, or replace it with --force", ErrBackupExists, abs)
		}
	}
	dir := filepath.Dir(abs)
	// VACUUM INTO writes into an empty file, so making it first both
	// reserves a unique name and finds an unwritable folder early.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".partial-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary file's name would only confuse
		}
		return Summary{}, fmt.Errorf("%w: cannot create a file in %s (%v); choose a folder that exists and that you can write to", ErrBackupPath, dir, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmpName)
		}
	}()
	// One read transaction: a snapshot; writers are not blocked in WAL mode.
	if _, err = s.db.ExecContext(ctx, "VACUUM INTO ?", tmpName); err != nil {
		return Summary{}, fmt.Errorf("writing the backup: %w", err)
	}
	if err = syncFile(tmpName); err != nil {
		return Summary{}, fmt.Errorf("writing the backup: %w", err)
	}
	sum, err = verify(ctx, tmpName, abs)
	switch {
	case errors.Is(err, ErrNewerSchema):
		return sum, fmt.Errorf("the database was made by a newer aktuald: back it up with that one (%w)", err)
	case err != nil:
		return sum, fmt.Errorf("checking the backup just written (the database itself may be damaged; run aktuald admin audit): %w", err)
	}
	if err = place(tmpName, abs, force); err != nil {
		return sum, err
	}
	syncDir(dir)
	sum.Path = abs
	return sum, nil
}

// place renames tmp to path; without replace, an existing path (even one
// that appeared since it was checked) is ErrBackupExists.
func place(tmp, path string, replace bool) error {
	if !replace {
		err := os.Link(tmp, path)
		if err == nil {
			os.Remove(tmp)
			return nil
		}
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s; choose another name, or replace it with --force", ErrBackupExists, path)
		}
		// No hard links here (FAT, some network shares): check, then rename.
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%w: %s; choose another name, or replace it with --force", ErrBackupExists, path)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("putting the backup in place: %w", err)
	}
	return nil
}

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
	ro := &Store{db: db, writer: make(chan struct{}, 1)}
	if sum.Violations, err = ro.Audit(ctx); err != nil {
		return sum, notBackup("auditing", err)
	}
	if sum.SHA256, err = hashFile(path); err != nil {
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

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Force replaces a database with more ledger rows than the backup, or
	// one that cannot be read.
	Force bool
	// Now names the kept database (aktuald.db.before-restore-<time>);
	// zero: the current time.
	Now time.Time
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Backup Summary // the backup as checked; Path is the file restored from
	// Kept is where the replaced database now is; "" when there was none.
	Kept string
	// PreviousLedgerRows: the replaced database's; -1 when it could not be
	// read (with Force), 0 when there was none.
	PreviousLedgerRows int64
}

// Restore replaces the database at dbPath with the backup from. It checks a
// copy of the backup beside the database (see Verify; audit violations are
// ErrViolations), refuses while another process has the database open
// (ErrInUse) and, unless opts.Force, when the database has more ledger rows
// than the backup (ErrWouldLoseLedger); then it keeps the database as
// <dbPath>.before-restore-<time>, removes its -wal and -shm, and renames the
// copy into place, so at every instant dbPath is the old database or the
// new one. On any refusal nothing is changed.
//
// The caller first takes server.LockDatabase, so that no server starts
// meanwhile: SQLite's locks cannot stop one.
func Restore(ctx context.Context, from, dbPath string, opts RestoreOptions) (res RestoreResult, err error) {
	src, err := filepath.Abs(from)
	if err != nil {
		return res, err
	}
	dst, err := filepath.Abs(dbPath)
	if err != nil {
		return res, err
	}
	if src == dst {
		return res, fmt.Errorf("%w: %s is the database itself; give a backup file", ErrNotBackup, src)
	}
	if fi, err := os.Stat(src + "-wal"); err == nil && fi.Size() > 0 {
		return res, fmt.Errorf("%w: %s has a -wal file beside it: it is a live database, not a backup; make a backup of it with aktuald admin backup", ErrNotBackup, src)
	}
	dir := filepath.Dir(dst)
	tmp, err := copyBeside(src, dir)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	sum, err := verify(ctx, tmp, src)
	res.Backup = sum
	if err != nil {
		return res, err
	}
	if len(sum.Violations) > 0 {
		v := sum.Violations[0]
		return res, fmt.Errorf("%w: %s: %d violations; the first: entitlement %d (%s): %s; restore another backup",
			ErrViolations, src, len(sum.Violations), v.EntitlementID, v.Customer, v.Problem)
	}

	fi, statErr := os.Stat(dst)
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return res, fmt.Errorf("the current database: %w", statErr)
	}
	if statErr == nil {
		// The restored file keeps the permissions of the one it replaces.
		if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
			return res, fmt.Errorf("copying the backup beside the database: %w", err)
		}
	}
	if statErr == nil {
		rows, err := quiesce(ctx, dst)
		switch {
		case errors.Is(err, ErrInUse):
			return res, err
		case err != nil && !opts.Force:
			return res, fmt.Errorf("%w: the current database %s cannot be read (%v), so it may hold paid-update history the backup lacks; to replace it anyway, restore with --force (it is kept beside it)",
				ErrWouldLoseLedger, dst, err)
		case err != nil:
			rows = -1
		case rows > sum.LedgerRows && !opts.Force:
			return res, fmt.Errorf("%w: the current database has %d, the backup %d: %d recorded purchases, reservations or completions (paid-update history) would be lost. Back the current database up first (aktuald admin backup --out FILE); then, if you are sure, restore with --force",
				ErrWouldLoseLedger, rows, sum.LedgerRows, rows-sum.LedgerRows)
		}
		res.PreviousLedgerRows = rows
		if res.Kept, err = keep(dst, store.OrNow(opts.Now)); err != nil {
			return res, err
		}
	}
	// A -wal or -shm left at the database's name would be read as part of
	// the restored file: a different database's pages.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("removing the stale %s: %w", dst+suffix, err)
		}
	}
	if err = os.Rename(tmp, dst); err != nil {
		return res, fmt.Errorf("putting the backup in place: %w", err)
	}
	syncDir(dir)
	return res, nil
}

// copyBeside copies src into a new hidden file in dir, synced, so that the
// bytes checked are the bytes put in place, by a rename within one folder.
func copyBeside(src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("reading the backup: %w", err)
	}
	defer in.Close()
	if fi, err := in.Stat(); err == nil && fi.IsDir() {
		return "", fmt.Errorf("%w: %s is a folder; give the backup's file name", ErrNotBackup, src)
	}
	out, err := os.CreateTemp(dir, ".restoring-*.db")
	if err != nil {
		return "", fmt.Errorf("copying the backup beside the database: %w", err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("copying the backup beside the database: %w", err)
	}
	return out.Name(), nil
}

// quiesce makes sure no other process has the database at path open,
// counts its ledger rows and checkpoints its WAL into the file, so that
// the file alone is the whole database. In WAL mode every open connection
// keeps a shared lock, even an idle one, so the exclusive lock fails
// (ErrInUse) while any other process, a server included, has it open.
func quiesce(ctx context.Context, path string) (ledgerRows int64, err error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", restoreLockWait.Milliseconds()))
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: p}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, classifyLock(path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return 0, classifyLock(path, err)
	}
	var version int
	err = conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
	if err == nil && version > 0 {
		err = conn.QueryRowContext(ctx, "SELECT count(*) FROM ledger").Scan(&ledgerRows)
	}
	if _, cerr := conn.ExecContext(ctx, "COMMIT"); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	var busy, logFrames, checkpointed int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed); err != nil {
		return 0, classifyLock(path, err)
	}
	if busy != 0 {
		return 0, fmt.Errorf("%w: %s: its WAL could not be written back; stop the other process and try again", ErrInUse, path)
	}
	conn.Close()
	if err := db.Close(); err != nil {
		return 0, err
	}
	// Closed: the last connection writes the WAL back and removes it. One
	// with pages still in it means a process opened the database since.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return 0, fmt.Errorf("%w: %s: another process opened it during the restore; stop it and try again", ErrInUse, path)
	}
	return ledgerRows, nil
}

func classifyLock(path string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED) {
		return fmt.Errorf("%w: %s: another process has it open (an aktuald serve or admin command, or the sqlite3 shell); stop it and try again", ErrInUse, path)
	}
	return err
}

// keep links the database at path to <path>.before-restore-<time> (copies
// it where hard links are not supported) and returns that name.
func keep(path string, now time.Time) (string, error) {
	base := path + ".before-restore-" + now.UTC().Format("20060102T150405Z")
	for i := 1; i < 100; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Link(path, name)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			err = copyNew(path, name)
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("keeping the current database as %s: %w", name, err)
		}
		return name, nil
	}
	return "", fmt.Errorf("keeping the current database: %s-2 … -99 all exist; move old ones away", base)
}

// copyNew copies src to a new file dst, synced; fs.ErrExist if dst exists.
func copyNew(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable where folders can be synced (not
// on Windows, where the rename is durable once the call returns).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
