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
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
	return newStore(db), nil
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
