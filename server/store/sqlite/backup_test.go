package sqlite

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// openAt opens a new database at dir/aktuald.db and returns it with its path.
func openAt(t *testing.T, dir string) (*Store, string) {
	t.Helper()
	path := filepath.Join(dir, "aktuald.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// churn runs reserve → complete (or release) loops on every credential
// until ctx ends, through the Store interface, and counts what it did.
func churn(ctx context.Context, t *testing.T, s store.Store, creds []store.Credential, workers int, done *atomic.Int64) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				c := creds[(w+i)%len(creds)]
				p := reserve(c, fmt.Sprintf("w%d-%d", w, i))
				p.Now = time.Now().UTC()
				r, _, err := s.Reserve(ctx, p)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					t.Errorf("reserve: %v", err)
					return
				}
				switch i % 3 {
				case 0: // left held, as a client that crashed would
				case 1:
					_, _, err = s.Complete(ctx, r.ID, time.Now().UTC())
				case 2:
					_, _, err = s.Release(ctx, r.ID, time.Now().UTC())
				}
				if err != nil && ctx.Err() == nil {
					t.Errorf("finishing %s: %v", r.ID, err)
					return
				}
				done.Add(1)
			}
		})
	}
	return &wg
}

// padReleases makes the database a few megabytes, so that a backup takes
// long enough for writers to run while it is written.
func padReleases(t *testing.T, s *Store, n int) {
	t.Helper()
	envelope := make([]byte, 64<<10)
	rand.Read(envelope)
	for i := range n {
		sum := fmt.Sprintf("%064x", i+1)
		err := s.PutRelease(t.Context(), store.Release{Product: "studio", Series: api.SeriesPro, Version: fmt.Sprintf("1.0.%d", i),
			OS: "linux", Arch: "amd64", SHA256: sum, Size: 1, Envelope: envelope, PublishedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBackupDuringReservations: backups taken while reservations run
// against the same database are consistent snapshots, and the writers are
// not stopped while they are written.
func TestBackupDuringReservations(t *testing.T) {
	dir := t.TempDir()
	s, path := openAt(t, dir)
	var creds []store.Credential
	for i := range 4 {
		_, c := activate(t, s, fmt.Sprintf("Customer %d", i), 1_000_000)
		creds = append(creds, c)
	}
	padReleases(t, s, 64)

	ctx, stop := context.WithCancel(t.Context())
	var done atomic.Int64
	wg := churn(ctx, t, s, creds, 6, &done)
	defer func() { stop(); wg.Wait() }()
	for done.Load() < 20 { // the writers are under way
		time.Sleep(time.Millisecond)
	}

	var during int64
	for i := range 4 {
		out := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		before := done.Load()
		sum, err := Backup(t.Context(), path, out, false)
		during += done.Load() - before
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if sum.Integrity != "ok" || len(sum.Violations) > 0 {
			t.Fatalf("backup %d: integrity %q, violations %v", i, sum.Integrity, sum.Violations)
		}
		if sum.Path != out || sum.Entitlements != 4 || sum.Releases != 64 || sum.LedgerRows < 4 || len(sum.SHA256) != 64 {
			t.Errorf("backup %d: summary %+v", i, sum)
		}
		if sum.Purchased != sum.Remaining+sum.Held+sum.Consumed {
			t.Errorf("backup %d: totals purchased %d != %d + %d + %d", i, sum.Purchased, sum.Remaining, sum.Held, sum.Consumed)
		}
		checkSnapshot(t, out, sum)
	}
	stop()
	wg.Wait()
	t.Logf("%d reservations finished while 4 backups were written", during)
	if during == 0 {
		t.Errorf("no reservation finished while the backups were written: writers were blocked")
	}
	leftovers(t, dir, "aktuald.db", "aktuald.db-wal", "aktuald.db-shm", "backup-0.db", "backup-1.db", "backup-2.db", "backup-3.db")
}

// checkSnapshot opens a backup as a store and checks every entitlement by
// itself, and that the counts agree with the Summary.
func checkSnapshot(t *testing.T, backup string, sum Summary) {
	t.Helper()
	cp := filepath.Join(t.TempDir(), "copy.db")
	copyFile(t, backup, cp)
	b, err := Open(cp)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	all, err := b.Entitlements(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var held int64
	for _, e := range all {
		if e.Purchased != e.Remaining+e.Held+e.Consumed {
			t.Errorf("%s: purchased %d != remaining %d + held %d + consumed %d", e.Customer, e.Purchased, e.Remaining, e.Held, e.Consumed)
		}
		held += e.Held
	}
	if held != sum.Held {
		t.Errorf("held %d, summary says %d", held, sum.Held)
	}
	if v, err := b.Audit(t.Context()); err != nil || len(v) > 0 {
		t.Errorf("audit of the backup: %v %v", v, err)
	}
}

func TestBackupBadOutput(t *testing.T) {
	dir := t.TempDir()
	s, _ := openAt(t, dir)
	activate(t, s, "Acme", 3)
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		out  string
		want error
	}{
		{"no name", "", ErrBackupPath},
		{"missing folder", filepath.Join(dir, "nope", "b.db"), ErrBackupPath},
		{"a folder", dir, ErrBackupPath},
		{"existing file", existing, ErrBackupExists},
	}
	if ro := unwritableDir(t); ro != "" {
		tests = append(tests, struct {
			name string
			out  string
			want error
		}{"unwritable folder", filepath.Join(ro, "b.db"), ErrBackupPath})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Backup(t.Context(), tt.out, false)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Error("the existing file was changed")
	}
	leftovers(t, dir, "aktuald.db", "aktuald.db-wal", "aktuald.db-shm", "existing.db")

	sum, err := s.Backup(t.Context(), existing, true)
	if err != nil || fileHash(t, existing) != sum.SHA256 {
		t.Errorf("--force: %+v %v", sum, err)
	}
}

// unwritableDir returns a folder this process cannot create files in; ""
// when there is none (root ignores permissions, and not every system has
// a folder that refuses even root).
func unwritableDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if f, err := os.CreateTemp(dir, "probe"); err != nil {
		return dir
	} else {
		f.Close()
		os.Remove(f.Name())
	}
	// Root ignores permissions; sysfs refuses new files even to root.
	if runtime.GOOS == "linux" {
		if f, err := os.CreateTemp("/sys", "probe"); err != nil {
			return "/sys"
		} else {
			f.Close()
			os.Remove(f.Name())
		}
	}
	t.Log("no unwritable folder here: that case is skipped")
	return ""
}

func TestBackupMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	_, err := Backup(t.Context(), filepath.Join(dir, "aktuald.db"), filepath.Join(dir, "b.db"), false)
	if !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("got %v", err)
	}
	leftovers(t, dir)
}

// TestBackupKeepsViolations: a backup of a database that fails the audit is
// kept (it is a faithful copy) and says so.
func TestBackupKeepsViolations(t *testing.T) {
	dir := t.TempDir()
	s, path := openAt(t, dir)
	activate(t, s, "Acme", 3)
	if _, err := rawDB(t, path).Exec("UPDATE entitlements SET purchased = purchased + 1, remaining = remaining + 1"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "b.db")
	sum, err := s.Backup(t.Context(), out, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Violations) == 0 || sum.Integrity != "ok" {
		t.Errorf("summary %+v", sum)
	}
	if fileHash(t, out) != sum.SHA256 {
		t.Error("the backup is not in place")
	}
}
