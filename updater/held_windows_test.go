package updater

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/testenv"
	"github.com/aktual/aktual/updater/internal/swap"
)

// outerKindIs reports whether the outermost kind err carries, the one the
// command line maps to an exit code, is k.
func outerKindIs(err, k error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// letGoWhenApplying lets go of a held file 300 ms after the update begins
// to install, well inside the swap's patience.
func letGoWhenApplying(u *Updater, release func()) {
	events := u.Events
	u.Events = func(e Event) {
		if e.Event == EventPhase && e.Phase == PhaseApply {
			time.AfterFunc(300*time.Millisecond, release)
		}
		events(e)
	}
}

// A program file another program holds (a scanner, a program reading it
// without sharing its deletion): held for good, the update stops with
// exit 9 naming the file, the program whole and no update used; let go
// a moment after, the update waits for it and goes on.
func TestUpdateOfAHeldFile(t *testing.T) {
	h := newHarness(t, 3)
	testenv.Hold(t, h.target)
	_, err := h.update(h.code)
	if !outerKindIs(err, ErrInUse) || !strings.Contains(err.Error(), h.target) || !strings.Contains(err.Error(), "no update was used") {
		t.Fatalf("held for good: %v; want exit 9 naming %s, nothing used", err, h.target)
	}
	h.expect(h.v1, 3, 0, 0)
	if fileExists(swap.OldPath(h.target)) {
		t.Errorf("left %s beside the program", filepath.Base(swap.OldPath(h.target)))
	}

	h = newHarness(t, 3)
	letGoWhenApplying(h.u, testenv.Hold(t, h.target))
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("let go a moment after: %v", err)
	}
	h.expect(h.v2, 2, 0, 1)
}

// The same for a program folder: the switch waits, or fails after the
// wait with exit 9 naming the held file, undone, and nothing used.
func TestFolderUpdateOfAHeldFile(t *testing.T) {
	fh := newFolderHarness(t, 1)
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	want := readTree(t, fh.dir)
	core := filepath.Join(fh.dir, "lib", "core.dll")
	release := testenv.Hold(t, core)
	_, err := fh.updateFolder(Request{})
	if !outerKindIs(err, ErrInUse) || !strings.Contains(err.Error(), core) {
		t.Fatalf("held for good: %v; want exit 9 naming %s", err, core)
	}
	fh.expectTree(want)
	fh.expectCounts(1, 0, 0)

	release()
	letGoWhenApplying(fh.u, testenv.Hold(t, core))
	if _, err := fh.updateFolder(Request{}); err != nil {
		t.Fatalf("let go a moment after: %v", err)
	}
	fh.expectCounts(0, 0, 1)
}

// A read-only program (copied from a CD, or protected by an
// administrator) is updated: the old file is renamed aside and then
// removed, and the new one keeps the attribute. So is a folder with
// read-only files, whose old files leave with the work folder.
func TestUpdateOfReadOnlyFiles(t *testing.T) {
	h := newHarness(t, 3)
	testenv.SetReadOnly(t, h.target)
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("single file: %v", err)
	}
	h.expect(h.v2, 2, 0, 1)
	if fileExists(swap.OldPath(h.target)) {
		t.Errorf("left the read-only old version %s", filepath.Base(swap.OldPath(h.target)))
	}
	if !testenv.ReadOnly(h.target) {
		t.Error("the new version lost the read-only attribute")
	}

	fh := newFolderHarness(t, 1)
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"buh.exe", "lib/core.dll", "lib/old/legacy-only.dll"} {
		testenv.SetReadOnly(t, filepath.Join(fh.dir, filepath.FromSlash(rel)))
	}
	if _, err := fh.updateFolder(Request{}); err != nil {
		t.Fatalf("folder: %v", err)
	}
	fh.expectCounts(0, 0, 1)
	if work := filepath.Join(filepath.Dir(fh.dir), "."+filepath.Base(fh.dir)+".aktual-work"); fileExists(work) {
		t.Errorf("the work folder with the read-only old files is left: %s", work)
	}
}
