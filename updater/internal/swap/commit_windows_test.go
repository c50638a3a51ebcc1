package swap

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/aktual/aktual/internal/testenv"
	"github.com/aktual/aktual/updater/internal/held"
	"github.com/aktual/aktual/updater/internal/kind"
)

// names lists the files beside target.
func names(t *testing.T, target string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(target))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// A target or a new file another program holds for a moment is waited
// for; a target held for good fails the swap in about held.Patience with
// the in-use error that names it, and the old file in place, whole.
func TestCommitWaitsForAHeldFile(t *testing.T) {
	for _, which := range []string{"target", "new file"} {
		t.Run(which+" let go after 300 ms", func(t *testing.T) {
			target, _, v2 := stagedFixture(t)
			path := target
			if which == "new file" {
				path = StagedPath(target) // a scanner looking at the file just written
			}
			time.AfterFunc(300*time.Millisecond, testenv.Hold(t, path))
			if failed, err := Commit(target, ""); failed || err != nil {
				t.Fatalf("rollback failed %v, %v", failed, err)
			}
			wantFile(t, target, v2)
		})
	}
	t.Run("target held for good", func(t *testing.T) {
		target, v1, _ := stagedFixture(t)
		before := names(t, target)
		testenv.Hold(t, target)
		start := time.Now()
		failed, err := Commit(target, "")
		took := time.Since(start)
		if failed || !errors.Is(err, kind.ErrInUse) || !errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
			t.Fatalf("rollback failed %v, %v; want the in-use error", failed, err)
		}
		if !strings.Contains(err.Error(), target) || !strings.Contains(err.Error(), "close that program") {
			t.Errorf("the message does not name the file and what to do: %v", err)
		}
		if took < held.Patience || took > 5*held.Patience {
			t.Errorf("gave up after %v, want about %v", took, held.Patience)
		}
		wantFile(t, target, v1)
		if after := names(t, target); !slices.Equal(after, before) {
			t.Errorf("beside the target: %v, before the swap %v", after, before)
		}
	})
}

// Access Windows denies for good (here: a folder stands where the old
// file goes aside) is tried again for the same short while, then said
// with what to do, as a failed apply; the target is left whole.
func TestCommitAccessDenied(t *testing.T) {
	target, v1, _ := stagedFixture(t)
	if err := os.MkdirAll(filepath.Join(OldPath(target), "in the way"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	failed, err := Commit(target, "")
	if failed || !errors.Is(err, kind.ErrApply) || !errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		t.Fatalf("rollback failed %v, %v; want access denied as a failed apply", failed, err)
	}
	if !strings.Contains(err.Error(), target) || !strings.Contains(err.Error(), "administrator") {
		t.Errorf("the message does not name the file and what to do: %v", err)
	}
	if took := time.Since(start); took < held.Patience {
		t.Errorf("gave up after %v, want about %v", took, held.Patience)
	}
	wantFile(t, target, v1)
}

// A read-only program is updated: renamed aside (Windows renames a
// read-only file), the new version put in with the attribute kept, and
// the old one removed (os.Remove clears the attribute first; Wine, like
// Windows, refuses to delete a read-only file otherwise). A rollback
// puts the old version back over the read-only new one, which Windows
// refuses unless the attribute is cleared first (Wine does not refuse
// that, so under Wine the rollback half proves less than on Windows; the
// clearing itself is checked on both).
func TestCommitReadOnlyTarget(t *testing.T) {
	target, v1, v2 := stagedFixture(t)
	testenv.SetReadOnly(t, target)
	os.Remove(StagedPath(target))
	if err := os.WriteFile(downloadPath(target), v2, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Stage(target, downloadPath(target), sum256(v2)); err != nil {
		t.Fatalf("stage beside a read-only target: %v", err)
	}
	if failed, err := Commit(target, ""); failed || err != nil {
		t.Fatalf("commit of a read-only target: rollback failed %v, %v", failed, err)
	}
	wantFile(t, target, v2)
	if !testenv.ReadOnly(target) {
		t.Error("the new version lost the read-only attribute the old one had")
	}
	if err := Rollback(target); err != nil {
		t.Fatalf("rollback over the read-only new version: %v", err)
	}
	wantFile(t, target, v1)

	// Updated again, and this time accepted: the read-only old file goes.
	if err := os.WriteFile(downloadPath(target), v2, 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.SetReadOnly(t, target)
	if err := Stage(target, downloadPath(target), sum256(v2)); err != nil {
		t.Fatal(err)
	}
	if failed, err := Commit(target, ""); failed || err != nil {
		t.Fatalf("rollback failed %v, %v", failed, err)
	}
	DropOld(target)
	if exists(OldPath(target)) {
		t.Error("the read-only old version was left aside")
	}

	other := filepath.Join(t.TempDir(), "other")
	os.WriteFile(other, nil, 0o644)
	testenv.SetReadOnly(t, other)
	if replaceable(other); testenv.ReadOnly(other) {
		t.Error("replaceable left the read-only attribute")
	}
}
