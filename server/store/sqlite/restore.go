package sqlite

import (
	"context"
	"database/sql"
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

// restoreLockWait bounds how long a restore waits for another process's
// transaction on the database before it gives up with ErrInUse.
const restoreLockWait = 2 * time.Second

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
