package folder

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/aktual/aktual/internal/testenv"
	"github.com/aktual/aktual/updater/internal/held"
	"github.com/aktual/aktual/updater/internal/kind"
)

// A program file really held by another handle: let go after 300 ms, the
// switch waits for it; held for good, the switch fails in about
// held.Patience with the in-use error naming it, and Undo puts the whole
// old version back.
func TestSwitchWaitsForARealHold(t *testing.T) {
	w, s, _, want := fixture(t)
	time.AfterFunc(300*time.Millisecond, testenv.Hold(t, w.Path("lib/a.dll")))
	if err := w.Apply(s); err != nil {
		t.Fatalf("a file held for 300 ms: %v", err)
	}
	if got := tree(t, w.Dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("folder %v", got)
	}

	w, s, old, _ := fixture(t)
	release := testenv.Hold(t, w.Path("prog.exe"))
	start := time.Now()
	err := w.Apply(s)
	if !errors.Is(err, kind.ErrInUse) || !strings.Contains(err.Error(), w.Path("prog.exe")) {
		t.Fatalf("a file held for good: %v; want the in-use error naming it", err)
	}
	if took := time.Since(start); took < held.Patience || took > 5*held.Patience {
		t.Errorf("gave up after %v, want about %v", took, held.Patience)
	}
	if err := w.Undo(s); err != nil {
		t.Fatalf("undo: %v", err)
	}
	release()
	if got := tree(t, w.Dir); !reflect.DeepEqual(got, old) {
		t.Fatalf("after the undo: %v, want the old version %v", got, old)
	}
}

// Access denied for good (a folder the user may not change) fails the
// switch after the same short while, naming the file and what to do, as
// a failed apply; Undo puts back what was moved.
func TestSwitchAccessDenied(t *testing.T) {
	t.Cleanup(func() { rename = os.Rename })
	w, s, old, _ := fixture(t)
	denied := w.Path("lib/gone.dll")
	rename = func(a, b string) error {
		if a == denied {
			return &os.LinkError{Op: "rename", Old: a, New: b, Err: windows.ERROR_ACCESS_DENIED}
		}
		return os.Rename(a, b)
	}
	err := w.Apply(s)
	if !errors.Is(err, kind.ErrApply) || !strings.Contains(err.Error(), denied) || !strings.Contains(err.Error(), "administrator") {
		t.Fatalf("apply: %v; want access denied naming %s and what to do", err, denied)
	}
	if err := w.Undo(s); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if got := tree(t, w.Dir); !reflect.DeepEqual(got, old) {
		t.Fatalf("after the undo: %v, want %v", got, old)
	}
}

// Read-only program files (copied from a CD, protected by an
// administrator) are switched: Windows renames a read-only file, and the
// old files left in the work folder go with it (os.RemoveAll deletes
// read-only files; Wine, like Windows, refuses a plain delete of one).
func TestSwitchReadOnlyFiles(t *testing.T) {
	for _, undo := range []bool{false, true} {
		w, s, old, want := fixture(t)
		for _, rel := range []string{"prog.exe", "lib/gone.dll"} {
			p, _ := windows.UTF16PtrFromString(w.Path(rel))
			if err := windows.SetFileAttributes(p, windows.FILE_ATTRIBUTE_READONLY); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Apply(s); err != nil {
			t.Fatalf("apply over read-only files: %v", err)
		}
		if undo {
			if err := w.Undo(s); err != nil {
				t.Fatalf("undo: %v", err)
			}
			want = old
		}
		if got := tree(t, w.Dir); !reflect.DeepEqual(got, want) {
			t.Fatalf("undone %v: folder %v, want %v", undo, got, want)
		}
		if err := w.Clean(); err != nil || exists(w.Root) {
			t.Fatalf("undone %v: the work folder with read-only old files was not removed: %v", undo, err)
		}
	}
}
