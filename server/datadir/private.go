package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A data folder holds bearer secrets: the keys, the code secret, and in the
// database every held reservation's id and every classic session's id (each
// completes, releases or opens a customer's update). So the folder is its
// owner's alone: folders 0700 and files 0600, whatever the umask, and a
// command refuses to run on one whose secrets others can read, as ssh does
// for private keys.

// ErrNotPrivate: a file of the data folder is open to other users.
var ErrNotPrivate = errors.New("readable or writable by other users")

// prepare creates the folder and its subfolders owner-only. A folder
// without a key set yet is new (aktuald init into an existing empty
// folder too) and is made owner-only whatever mode it had; an existing
// one is checked instead, and refused when others can read its secrets.
func (d DataDir) prepare(dbPath string) error {
	_, err := os.Stat(d.Keyring().KeySetPath())
	fresh := errors.Is(err, fs.ErrNotExist)
	for _, dir := range []string{string(d), d.Path(keysDir), d.BlobDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating the data folder: %w", err)
		}
		if fresh {
			if err := makePrivate(dir, 0o700); err != nil {
				return err
			}
		}
	}
	if !fresh {
		if err := d.CheckPrivate(dbPath); err != nil {
			return err
		}
	}
	if dbPath != "" {
		// SQLite creates its file 0644 less the umask, and its -wal and
		// -shm files with the database file's mode: a database created
		// here owner-only keeps all three so.
		f, err := os.OpenFile(dbPath, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("creating the database file: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("creating the database file: %w", err)
		}
		if fresh {
			if err := makePrivate(dbPath, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckPrivate returns an error wrapping ErrNotPrivate, naming the file and
// the chmod that fixes it, when others may read or write the keys, the
// code secret or the database (dbPath, with its -wal and -shm files; "" for
// a database elsewhere).
func (d DataDir) CheckPrivate(dbPath string) error {
	paths := []string{d.Path(keysDir)}
	if entries, err := os.ReadDir(d.Path(keysDir)); err == nil {
		for _, e := range entries {
			paths = append(paths, d.Path(keysDir, e.Name()))
		}
	}
	if dbPath != "" {
		paths = append(paths, dbPath, dbPath+"-wal", dbPath+"-shm")
	}
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if open := openToOthers(fi); open != "" {
			mode := "600"
			if fi.IsDir() {
				mode = "700"
			}
			return fmt.Errorf("%s is %s (%s: %w); anyone who can read it can take customers' updates or sign as the vendor. Run: chmod %s %s",
				p, open, fi.Mode().Perm(), ErrNotPrivate, mode, shellQuote(p))
		}
	}
	return nil
}

// shellQuote quotes p for a command line staff paste, when it needs it.
func shellQuote(p string) string {
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '.' || r == '-' || r == '_') {
			return "'" + filepath.ToSlash(p) + "'"
		}
	}
	return p
}
