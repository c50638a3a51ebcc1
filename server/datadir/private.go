package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// A data folder holds bearer secrets: the keys, the code secret, and in the
// database every held reservation's id and every classic session's id (each
// completes, releases or opens a customer's update). So the folder is its
// owner's alone: folders 0700 and files 0600, whatever the umask, and a
// command refuses to run on one whose secrets others can read, as ssh does
// for private keys.

// ErrNotPrivate: a file of the data folder is open to other users.
var ErrNotPrivate = errors.New("open to other users")

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

// NotPrivateError is a file of the data folder that others may read or
// write; it matches ErrNotPrivate.
type NotPrivateError struct {
	Path string
	Mode fs.FileMode
	How  string // "readable by other users", "writable by other users"
}

func (e *NotPrivateError) Error() string {
	mode := "600"
	if e.Mode.IsDir() {
		mode = "700"
	}
	return fmt.Sprintf("%s is %s (mode %s): whoever can read the keys, the code secret or the database can take customers' updates or sign as the vendor; run: chmod %s %s",
		e.Path, e.How, e.Mode.Perm(), mode, shellQuote(e.Path))
}

func (e *NotPrivateError) Is(target error) bool { return target == ErrNotPrivate }

// CheckPrivate returns a *NotPrivateError, naming the file and the chmod
// that fixes it, when others may read or write the keys, the code secret
// or the database (dbPath, with its -wal and -shm files; "" for a database
// elsewhere), or change the folders that hold them.
func (d DataDir) CheckPrivate(dbPath string) error {
	folders := []string{string(d), d.Path(keysDir)}
	var files []string
	if entries, err := os.ReadDir(d.Path(keysDir)); err == nil {
		for _, e := range entries {
			files = append(files, d.Path(keysDir, e.Name()))
		}
	}
	if dbPath != "" {
		files = append(files, dbPath, dbPath+"-wal", dbPath+"-shm")
	}
	for _, p := range append(folders, files...) {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if how := openToOthers(fi); how != "" {
			return &NotPrivateError{Path: p, Mode: fi.Mode(), How: how}
		}
	}
	return nil
}

// shellQuote quotes p for a command line staff paste, when it needs it.
func shellQuote(p string) string {
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '.' || r == '-' || r == '_') {
			return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
		}
	}
	return p
}
