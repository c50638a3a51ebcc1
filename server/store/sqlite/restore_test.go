package sqlite

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aktual/aktual/internal/fileutil"
	"github.com/aktual/aktual/server/store"
)

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
	h, err := fileutil.SHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestBackupRestoreRoundTrip: a restored backup has the counts of the
// moment of the backup; the later database is kept beside it.
func TestBackupRestoreRoundTrip(t *testing.T) {
	h := backupMidHistory(t)
	liveHash := fileHash(t, h.path)

	_, err := Restore(t.Context(), h.out, h.path, RestoreOptions{Now: t0})
	if !errors.Is(err, ErrWouldLoseLedger) {
		t.Fatalf("restore over a longer ledger: %v, want ErrWouldLoseLedger", err)
	}
	t.Log(err)
	if fileHash(t, h.path) != liveHash {
		t.Error("a refused restore changed the database")
	}
	leftovers(t, h.dir, "aktuald.db")

	res, err := Restore(t.Context(), h.out, h.path, RestoreOptions{Force: true, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	kept := h.path + ".before-restore-20310304T050607Z"
	if res.Kept != kept || res.PreviousLedgerRows != 6 || res.Backup.LedgerRows != 5 || res.Backup.SHA256 != h.sum.SHA256 {
		t.Errorf("result %+v", res)
	}
	if fileHash(t, h.path) != h.sum.SHA256 {
		t.Error("the database is not the backup's bytes")
	}
	leftovers(t, h.dir, "aktuald.db", filepath.Base(kept))
	checkRestored(t, h.path, h.atBackup)

	// The replaced database is whole: its last reservation is there.
	old, err := Open(kept)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	e, err := old.Entitlement(t.Context(), h.acme)
	if err != nil || e.Held != 1 || e.Consumed != 1 {
		t.Errorf("kept database: %+v %v", e, err)
	}

	// A second restore in the same second keeps the first kept file.
	res, err = Restore(t.Context(), h.out, h.path, RestoreOptions{Now: t0})
	if err != nil || res.Kept != kept+"-2" {
		t.Errorf("second restore: %+v %v", res, err)
	}
}

// midHistory is a closed database with a backup taken before its last
// reservation.
type midHistory struct {
	dir, path string              // the database's folder and file
	out       string              // the backup
	sum       Summary             // what Backup said of it
	atBackup  []store.Entitlement // the entitlements when it was taken
	acme      store.Credential    // the customer reserved from after it
}

// backupMidHistory activates two customers, completes one reservation and
// holds another, backs up, then reserves once more and closes the store.
func backupMidHistory(t *testing.T) midHistory {
	t.Helper()
	h := midHistory{dir: t.TempDir(), out: filepath.Join(t.TempDir(), "backup.db")}
	var s *Store
	s, h.path = openAt(t, h.dir)
	_, h.acme = activate(t, s, "Acme", 5)
	_, beta := activate(t, s, "Beta", 2)
	r, _, err := s.Reserve(t.Context(), reserve(h.acme, "a1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Complete(t.Context(), r.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Reserve(t.Context(), reserve(beta, "b1")); err != nil {
		t.Fatal(err)
	}
	if h.atBackup, err = s.Entitlements(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h.sum, err = s.Backup(t.Context(), h.out, false); err != nil {
		t.Fatal(err)
	}
	if sum := h.sum; sum.LedgerRows != 5 || sum.Purchased != 7 || sum.Remaining != 5 || sum.Held != 1 || sum.Consumed != 1 {
		t.Errorf("summary %+v", sum)
	}

	// Later history: one more update reserved.
	if _, _, err := s.Reserve(t.Context(), reserve(h.acme, "a2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return h
}

// checkRestored opens the database at path and fails unless it passes the
// audit and holds the entitlements want.
func checkRestored(t *testing.T, path string, want []store.Entitlement) {
	t.Helper()
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
	if !slices.Equal(now, want) {
		t.Errorf("after restore:\n%+v\nat backup:\n%+v", now, want)
	}
}

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
