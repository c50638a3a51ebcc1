package folder

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/testenv"
	"github.com/aktual/aktual/updater/internal/held"
)

// tree reads every regular file under dir: path → content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t *testing.T, files map[string]string, root string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fixture: an old version with the customer's file beside it, a stage
// holding the new version's changed files, and the switch between them.
func fixture(t *testing.T) (Work, *Switch, map[string]string, map[string]string) {
	dir := filepath.Join(t.TempDir(), "Счетоводство")
	old := map[string]string{
		"prog.exe": "old program", "lib/a.dll": "old a", "lib/gone.dll": "gone",
		"help/bg/справка.txt": "old help", "data/company.db": "customer data",
	}
	write(t, old, dir)
	w := For(dir)
	staged := map[string]string{
		"prog.exe": "new program", "lib/a.dll": "new a", "lib/new/b.dll": "new b",
		"шаблони/фактура.rpt": "new template",
	}
	for rel, content := range staged {
		os.MkdirAll(w.StageDir(), 0o700)
		if err := os.WriteFile(w.Staged(rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := &Switch{Remove: []string{"lib/gone.dll"}}
	for _, rel := range []string{"lib/a.dll", "lib/new/b.dll", "prog.exe", "шаблони/фактура.rpt"} {
		s.Put = append(s.Put, Put{Path: rel})
	}
	want := map[string]string{
		"prog.exe": "new program", "lib/a.dll": "new a", "lib/new/b.dll": "new b",
		"шаблони/фактура.rpt": "new template", "help/bg/справка.txt": "old help", "data/company.db": "customer data",
	}
	return w, s, old, want
}

// cutAt makes the nth rename from now fail, as a crash there would leave
// the folder (nothing runs after it).
func cutAt(t *testing.T, n int) *int {
	count := 0
	rename = func(a, b string) error {
		count++
		if count == n {
			return errors.New("cut")
		}
		return os.Rename(a, b)
	}
	t.Cleanup(func() { rename = os.Rename })
	return &count
}

// A switch cut at every rename is finished by Apply or undone by Undo,
// and either leaves exactly one whole version with the customer's file.
func TestSwitchCutAnywhere(t *testing.T) {
	w, s, _, _ := fixture(t)
	total := *countRenames(t, w, s)
	if total != 7 {
		t.Fatalf("%d renames in the switch, want 7 (two replaced, two new, one removed)", total)
	}
	for n := 1; n <= total; n++ {
		for _, forward := range []bool{true, false} {
			w, s, old, want := fixture(t)
			cutAt(t, n)
			if err := w.Apply(s); err == nil {
				t.Fatalf("rename %d: Apply did not fail", n)
			}
			rename = os.Rename
			if forward {
				if err := w.Apply(s); err != nil {
					t.Fatalf("rename %d: finishing: %v", n, err)
				}
				if got := tree(t, w.Dir); !reflect.DeepEqual(got, want) {
					t.Fatalf("rename %d, forward: folder %v, want %v", n, got, want)
				}
				if !w.Applied(s) {
					t.Fatalf("rename %d: Applied false after Apply", n)
				}
				continue
			}
			if err := w.Undo(s); err != nil {
				t.Fatalf("rename %d: undo: %v", n, err)
			}
			if got := tree(t, w.Dir); !reflect.DeepEqual(got, old) {
				t.Fatalf("rename %d, undo: folder %v, want %v", n, got, old)
			}
		}
	}
}

// An undo cut at any rename is finished by Undo again, or by Apply.
func TestUndoCutAnywhere(t *testing.T) {
	for n := 1; n < 12; n++ {
		w, s, old, want := fixture(t)
		if err := w.Apply(s); err != nil {
			t.Fatal(err)
		}
		cut := cutAt(t, n)
		err := w.Undo(s)
		rename = os.Rename
		if err == nil && *cut < n {
			break // fewer renames than n: the undo was whole
		}
		if n%2 == 0 {
			if err := w.Undo(s); err != nil {
				t.Fatal(err)
			}
			if got := tree(t, w.Dir); !reflect.DeepEqual(got, old) {
				t.Fatalf("undo cut at %d, undone again: %v", n, got)
			}
		} else {
			if err := w.Apply(s); err != nil {
				t.Fatal(err)
			}
			if got := tree(t, w.Dir); !reflect.DeepEqual(got, want) {
				t.Fatalf("undo cut at %d, applied again: %v", n, got)
			}
		}
	}
}

func countRenames(t *testing.T, w Work, s *Switch) *int {
	count := cutAt(t, -1)
	if err := w.Apply(s); err != nil {
		t.Fatal(err)
	}
	n := *count
	rename = os.Rename
	return &n
}

// A link in the program folder never carries a write outside it.
func TestNoWriteThroughLink(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	dir := filepath.Join(base, "prog")
	os.MkdirAll(outside, 0o755)
	os.MkdirAll(dir, 0o755)
	testenv.SkipUnderWine(t, "Wine makes a symbolic link a Unix one, which its Lstat reports as the folder it points to, not as a link or reparse point")
	if err := os.Symlink(outside, filepath.Join(dir, "lib")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if err := CheckInside(dir, "lib/x.dll", nil); err == nil {
		t.Fatal("CheckInside accepted a path through a link")
	}
	if err := MkdirInside(dir, "lib/sub/x.dll"); err == nil {
		t.Fatal("MkdirInside went through a link")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote outside: %v", entries)
	}
}

func TestSwitchPlanRoundTrip(t *testing.T) {
	w := For(filepath.Join(t.TempDir(), "p"))
	if s, err := w.LoadSwitch(); s != nil || err != nil {
		t.Fatalf("no plan: %v %v", s, err)
	}
	s := &Switch{Put: []Put{{Path: "a/b", SHA256: "x", Size: 1}}, Remove: []string{"c"}}
	if err := w.SaveSwitch(s); err != nil {
		t.Fatal(err)
	}
	got, err := w.LoadSwitch()
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("got %v %v", got, err)
	}
	os.WriteFile(w.switchPath(), []byte(`{"put":[{"path":"../../etc/passwd"}]}`), 0o600)
	if _, err := w.LoadSwitch(); err == nil {
		t.Fatal("a plan leading out of the folder was read")
	}
}

// A file another program holds for a moment (a scanner, a program
// closing) is waited for; one held for good fails the switch in about two
// seconds, naming it.
func TestRenameWaitsForAHeldFile(t *testing.T) {
	errHeld := errors.New("held by another program")
	isHeld = func(err error) bool { return errors.Is(err, errHeld) }
	t.Cleanup(func() { isHeld, rename = held.ByAnother, os.Rename })
	w, s, _, want := fixture(t)
	tries := 0
	rename = func(a, b string) error {
		if tries++; tries <= 2 {
			return errHeld
		}
		return os.Rename(a, b)
	}
	if err := w.Apply(s); err != nil {
		t.Fatalf("a file held for a moment: %v", err)
	}
	if got := tree(t, w.Dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("folder %v", got)
	}
	w, s, old, _ := fixture(t)
	rename = func(a, b string) error { return errHeld }
	start := time.Now()
	if err := w.Apply(s); !errors.Is(err, errHeld) {
		t.Fatalf("a file held for good: %v", err)
	}
	if took := time.Since(start); took < time.Second || took > 10*time.Second {
		t.Errorf("gave up after %v; want about two seconds", took)
	}
	rename = os.Rename
	if err := w.Undo(s); err != nil || !reflect.DeepEqual(tree(t, w.Dir), old) {
		t.Fatalf("undo after a held file: %v", err)
	}
}
