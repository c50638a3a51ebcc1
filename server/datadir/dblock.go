package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The in-use lock: a file beside the SQLite database (aktuald.db.inuse)
// that every `aktuald serve` holds shared for as long as it runs, and that
// `aktuald admin restore` takes exclusively while it replaces the database.
// The operating system releases it when its holder dies, however it dies,
// so a crashed server never blocks a restore. SQLite's own locks cannot
// tell an idle server from none, and a server that kept its connection to
// a database renamed aside would go on serving the old one.
const inUseSuffix = ".inuse"

// Refusals of the in-use lock.
var (
	ErrDatabaseInUse = errors.New("an aktuald serve is using the database")
	ErrRestoring     = errors.New("a restore is replacing the database")
)

// SQLitePath returns the embedded database file dbURL names: the data
// folder's aktuald.db for "", PATH for sqlite:PATH. ok is false for any
// other URL (PostgreSQL).
func (d DataDir) SQLitePath(dbURL string) (path string, ok bool) {
	if dbURL != "" && !strings.HasPrefix(dbURL, "sqlite:") {
		return "", false
	}
	path = strings.TrimPrefix(dbURL, "sqlite:")
	if path == "" {
		return d.Path(DBFile), true
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, true
}

// HoldDatabase takes the in-use lock shared, for `serve`: call it before
// opening the database and release it after closing it. Several servers
// may hold it at once; while a restore holds it, the answer wraps
// ErrRestoring. For PostgreSQL it does nothing.
func HoldDatabase(dir DataDir, dbURL string) (release func(), err error) {
	return lockDatabase(dir, dbURL, false)
}

// LockDatabase takes the in-use lock exclusively, for a restore; while a
// server holds it, the answer wraps ErrDatabaseInUse. It creates the data
// folder when the database is the folder's own and the folder is missing
// (a restore onto a new machine).
func LockDatabase(dir DataDir, dbURL string) (release func(), err error) {
	return lockDatabase(dir, dbURL, true)
}

func lockDatabase(dir DataDir, dbURL string, exclusive bool) (func(), error) {
	path, ok := dir.SQLitePath(dbURL)
	if !ok {
		return func() {}, nil
	}
	if path == dir.Path(DBFile) {
		if err := os.MkdirAll(string(dir), 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
	}
	f, err := os.OpenFile(path+inUseSuffix, os.O_CREATE|os.O_RDWR, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the database's folder %s does not exist; create it first", filepath.Dir(path))
	} else if err != nil {
		return nil, fmt.Errorf("opening the database's in-use lock: %w", err)
	}
	locked, err := tryLockFile(f, exclusive)
	switch {
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("taking the database's in-use lock %s: %w", f.Name(), err)
	case !locked && exclusive:
		f.Close()
		return nil, fmt.Errorf("%w (%s): stop every aktuald serve on it first", ErrDatabaseInUse, path)
	case !locked:
		f.Close()
		return nil, fmt.Errorf("%w (%s): start the server again when it has finished", ErrRestoring, path)
	}
	return func() { f.Close() }, nil
}
