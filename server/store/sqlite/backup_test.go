package sqlite

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// leftovers fails unless dir holds exactly want (names absent from the
// folder are allowed: -wal and -shm come and go).
func leftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !slices.Contains(want, e.Name()) {
			t.Errorf("unexpected file left in %s: %s", dir, e.Name())
		}
	}
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	h, err := hashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestBackupRestoreRoundTrip: a restored backup has the counts of the
// moment of the backup; the later database is kept beside it.
func TestBackupRestoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, path := openAt(t, dir)
	_, acme := activate(t, s, "Acme", 5)
	_, beta := activate(t, s, "Beta", 2)
	r, _, err := s.Reserve(t.Context(), reserve(acme, "a1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Complete(t.Context(), r.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Reserve(t.Context(), reserve(beta, "b1")); err != nil {
		t.Fatal(err)
	}
	atBackup, err := s.Entitlements(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	sum, err := s.Backup(t.Context(), out, false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.LedgerRows != 5 || sum.Purchased != 7 || sum.Remaining != 5 || sum.Held != 1 || sum.Consumed != 1 {
		t.Errorf("summary %+v", sum)
	}

	// Later history: one more update reserved.
	if _, _, err := s.Reserve(t.Context(), reserve(acme, "a2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	liveHash := fileHash(t, path)

	_, err = Restore(t.Context(), out, path, RestoreOptions{Now: t0})
	if !errors.Is(err, ErrWouldLoseLedger) {
		t.Fatalf("restore over a longer ledger: %v, want ErrWouldLoseLedger", err)
	}
	t.Log(err)
	if fileHash(t, path) != liveHash {
		t.Error("a refused restore changed the database")
	}
	leftovers(t, dir, "aktuald.db")

	res, err := Restore(t.Context(), out, path, RestoreOptions{Force: true, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	kept := path + ".before-restore-20310304T050607Z"
	if res.Kept != kept || res.PreviousLedgerRows != 6 || res.Backup.LedgerRows != 5 || res.Backup.SHA256 != sum.SHA256 {
		t.Errorf("result %+v", res)
	}
	if fileHash(t, path) != sum.SHA256 {
		t.Error("the database is not the backup's bytes")
	}
	leftovers(t, dir, "aktuald.db", filepath.Base(kept))

	restored, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if v, err := restored.Audit(t.Context()); err != nil || len(v) > 0 {
		t.Errorf("audit after restore: %v %v", v, err)
	}
	now, err := restored.Entitlements(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(now, atBackup) {
		t.Errorf("after restore:\n%+v\nat backup:\n%+v", now, atBackup)
	}

	// The replaced database is whole: its last reservation is there.
	old, err := Open(kept)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	e, err := old.Entitlement(t.Context(), acme)
	if err != nil || e.Held != 1 || e.Consumed != 1 {
		t.Errorf("kept database: %+v %v", e, err)
	}

	// A second restore in the same second keeps the first kept file.
	if err := restored.Close(); err != nil {
		t.Fatal(err)
	}
	res, err = Restore(t.Context(), out, path, RestoreOptions{Now: t0})
	if err != nil || res.Kept != kept+"-2" {
		t.Errorf("second restore: %+v %v", res, err)
	}
}

// TestRestoreOntoNothing: on a new machine there is no database yet.
func TestRestoreOntoNothing(t *testing.T) {
	s, _ := openAt(t, t.TempDir())
	activate(t, s, "Acme", 3)
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := s.Backup(t.Context(), out, false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "aktuald.db")
	res, err := Restore(t.Context(), out, path, RestoreOptions{})
	if err != nil || res.Kept != "" || res.PreviousLedgerRows != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if e, err := r.ProEntitlement(t.Context(), "Acme"); err != nil || e.Remaining != 3 {
		t.Errorf("%+v %v", e, err)
	}
}

// TestRestoreRefusedWhileOpen: an idle store in another pool (a server
// between requests) is seen, and nothing changes.
func TestRestoreRefusedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	s, path := openAt(t, dir)
	activate(t, s, "Acme", 3)
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := s.Backup(t.Context(), out, false); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, path)
	_, err := Restore(t.Context(), out, path, RestoreOptions{Force: true})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("restore while open: %v, want ErrInUse", err)
	}
	t.Log(err)
	if fileHash(t, path) != before {
		t.Error("a refused restore changed the database")
	}
	leftovers(t, dir, "aktuald.db", "aktuald.db-wal", "aktuald.db-shm")
	if _, err := s.Entitlements(t.Context()); err != nil {
		t.Errorf("the store no longer answers: %v", err)
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

// TestRestoreBadBackups: every bad backup is refused with its reason, and
// the database and its folder are left as they were.
func TestRestoreBadBackups(t *testing.T) {
	src, _ := openAt(t, t.TempDir())
	_, c := activate(t, src, "Acme", 3)
	if _, _, err := src.Reserve(t.Context(), reserve(c, "k")); err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	good := filepath.Join(files, "good.db")
	if _, err := src.Backup(t.Context(), good, false); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// edited: a good backup changed with SQL, as staff with sqlite3 might.
	edited := func(name, sql string) string {
		p := write(name, whole)
		db := rawDB(t, p)
		if _, err := db.Exec(sql); err != nil {
			t.Fatal(err)
		}
		db.Close()
		return p
	}
	random := make([]byte, 8192)
	rand.Read(random)
	otherDB := filepath.Join(files, "other.db")
	if db := rawDB(t, otherDB); true {
		if _, err := db.Exec("CREATE TABLE notes (x TEXT)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}

	tests := []struct {
		name string
		file string
		want error
	}{
		{"missing", filepath.Join(files, "missing.db"), fs.ErrNotExist},
		{"empty", write("empty.db", nil), ErrNotBackup},
		{"random bytes", write("random.db", random), ErrNotBackup},
		{"truncated", write("truncated.db", whole[:len(whole)/2]), ErrNotBackup},
		{"cut mid-page", write("cut.db", whole[:len(whole)-100]), ErrNotBackup},
		{"not aktuald's", otherDB, ErrNotBackup},
		{"newer schema", edited("newer.db", fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)), ErrNewerSchema},
		{"unbalanced", edited("unbalanced.db", "UPDATE entitlements SET purchased = purchased + 1, remaining = remaining + 1"), ErrViolations},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			live, path := openAt(t, dir)
			activate(t, live, "Live", 1)
			live.Close()
			before := fileHash(t, path)
			_, err := Restore(t.Context(), tt.file, path, RestoreOptions{Force: true})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			t.Log(err)
			if fileHash(t, path) != before {
				t.Error("the database was changed")
			}
			leftovers(t, dir, "aktuald.db")
		})
	}
}

// TestRestoreOverCrashedDatabase: a server that died leaves the database
// with its latest history only in the -wal file. The restore counts it,
// and the kept database holds it.
func TestRestoreOverCrashedDatabase(t *testing.T) {
	s, path := openAt(t, t.TempDir())
	_, c := activate(t, s, "Acme", 5)
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := s.Backup(t.Context(), out, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Reserve(t.Context(), reserve(c, "after")); err != nil {
		t.Fatal(err)
	}
	crash := t.TempDir()
	live := filepath.Join(crash, "aktuald.db")
	copyFile(t, path, live)
	copyFile(t, path+"-wal", live+"-wal")
	if fi, err := os.Stat(live + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL to test with: %v", err)
	}

	_, err := Restore(t.Context(), out, live, RestoreOptions{Now: t0})
	if !errors.Is(err, ErrWouldLoseLedger) {
		t.Fatalf("got %v, want ErrWouldLoseLedger: the WAL's rows were not counted", err)
	}
	res, err := Restore(t.Context(), out, live, RestoreOptions{Now: t0, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.PreviousLedgerRows != 2 {
		t.Errorf("previous ledger rows %d, want 2", res.PreviousLedgerRows)
	}
	leftovers(t, crash, "aktuald.db", filepath.Base(res.Kept))
	old, err := Open(res.Kept)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if e, err := old.Entitlement(t.Context(), c); err != nil || e.Held != 1 {
		t.Errorf("kept database lost the WAL's history: %+v %v", e, err)
	}
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
