package datadir

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestDatabaseInUseLock(t *testing.T) {
	dir := DataDir(filepath.Join(t.TempDir(), "data")) // created by the lock

	serveA, err := HoldDatabase(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	serveB, err := HoldDatabase(dir, "") // several servers on one folder
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDatabase(dir, ""); !errors.Is(err, ErrDatabaseInUse) {
		t.Fatalf("restore while two servers run: %v", err)
	}
	serveA()
	if _, err := LockDatabase(dir, ""); !errors.Is(err, ErrDatabaseInUse) {
		t.Fatalf("restore while one server runs: %v", err)
	}
	serveB()

	restore, err := LockDatabase(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := HoldDatabase(dir, ""); !errors.Is(err, ErrRestoring) {
		t.Fatalf("serve during a restore: %v", err)
	}
	if _, err := LockDatabase(dir, ""); !errors.Is(err, ErrDatabaseInUse) {
		t.Fatalf("two restores: %v", err)
	}
	restore()
	again, err := HoldDatabase(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	again()
}

func TestDatabaseLockPaths(t *testing.T) {
	dir := DataDir(t.TempDir())
	other := filepath.Join(t.TempDir(), "other.db")
	// The lock goes with the database file, wherever --db puts it.
	hold, err := HoldDatabase(dir, "sqlite:"+other)
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	if _, err := LockDatabase(DataDir(t.TempDir()), "sqlite:"+other); !errors.Is(err, ErrDatabaseInUse) {
		t.Errorf("same database through another data folder: %v", err)
	}
	if release, err := LockDatabase(dir, ""); err != nil {
		t.Errorf("the data folder's own database is another one: %v", err)
	} else {
		release()
	}
	if _, err := HoldDatabase(dir, "sqlite:"+filepath.Join(t.TempDir(), "missing", "x.db")); err == nil {
		t.Error("a database in a missing folder was locked")
	}
	release, err := LockDatabase(dir, "postgres://db/aktual") // not ours to lock
	if err != nil {
		t.Fatal(err)
	}
	release()
}
