//go:build !windows

package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// withUmask runs the test under umask (process-wide: these tests do not
// run in parallel).
func withUmask(t *testing.T, umask int) {
	old := syscall.Umask(umask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// An existing folder given to a new data folder (aktuald init into a
// folder staff made 0755), under a umask that would leave everything open:
// the folder and every file in it end owner-only, the database's -wal and
// -shm files too.
func TestNewDataFolderIsPrivate(t *testing.T) {
	withUmask(t, 0)
	d := DataDir(filepath.Join(t.TempDir(), "data"))
	if err := os.Mkdir(string(d), 0o755); err != nil {
		t.Fatal(err)
	}
	inst, err := Open(d, "")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	if _, err := inst.Store.Entitlements(t.Context()); err != nil { // the database is in use: -wal and -shm exist
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(string(d), func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if e.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
		seen[filepath.Base(path)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{DBFile, DBFile + "-wal", DBFile + "-shm", "code-secret", TrustFile} {
		if !seen[name] {
			t.Errorf("%s was not there to check", name)
		}
	}
}

// A data folder whose secrets others can read is refused, naming the file
// and the chmod that fixes it, and is left as it was.
func TestOpenRefusesAFolderOpenToOthers(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(d DataDir) string
		mode os.FileMode
		how  string
	}{
		{"code secret readable", func(d DataDir) string { return d.Path(keysDir, "code-secret") }, 0o644, "readable by other users"},
		{"root key readable by the group", func(d DataDir) string { return d.Path(keysDir, "root.pem") }, 0o640, "readable by other users"},
		{"database readable", func(d DataDir) string { return d.Path(DBFile) }, 0o644, "readable by other users"},
		{"write-ahead log readable", func(d DataDir) string { return d.Path(DBFile + "-wal") }, 0o604, "readable by other users"},
		{"keys folder writable", func(d DataDir) string { return d.Path(keysDir) }, 0o777, "writable by other users"},
		{"data folder writable", func(d DataDir) string { return string(d) }, 0o775, "writable by other users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DataDir(filepath.Join(t.TempDir(), "my data"))
			inst, err := Open(d, "")
			if err != nil {
				t.Fatal(err)
			}
			inst.Close()
			p := tc.path(d)
			if err := os.WriteFile(d.Path(DBFile+"-wal"), nil, 0o600); err != nil { // as a server killed mid-write leaves it
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err = Open(d, "")
			if !errors.Is(err, ErrNotPrivate) {
				t.Fatalf("Open: %v, want ErrNotPrivate", err)
			}
			for _, want := range []string{p, tc.how, "chmod", "'" + p + "'"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not say %q", err, want)
				}
			}
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != tc.mode {
				t.Errorf("after the refusal %s has mode %v (%v), want it left %v", p, fi.Mode().Perm(), err, tc.mode)
			}
		})
	}
}
