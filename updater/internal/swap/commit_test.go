package swap

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aktual/aktual/updater/internal/held"
)

// stagedFixture is a target at 1.0.0 with 2.0.0 staged beside it.
func stagedFixture(t *testing.T) (target string, v1, v2 []byte) {
	t.Helper()
	target, v2, sum := stageFixture(t)
	v1, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if err := Stage(target, downloadPath(target), sum); err != nil {
		t.Fatal(err)
	}
	return target, v1, v2
}

// wantFile checks that path holds want, byte for byte.
func wantFile(t *testing.T, path string, want []byte) {
	t.Helper()
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s holds %q, %v; want %q", filepath.Base(path), got, err, want)
	}
}

// The swap is tried again while its failure is a held file and the old
// file is back in place: here the new file is missing for a moment
// (taken for "held"), which fails CommitBinary after its first rename and
// makes it put the old file back. Back in 300 ms, the swap succeeds; gone
// for good, it fails in about held.Patience with the old file in place.
func TestCommitTriesAgainWhileHeld(t *testing.T) {
	missing := func(err error) bool { return errors.Is(err, fs.ErrNotExist) }

	target, _, v2 := stagedFixture(t)
	away := filepath.Join(t.TempDir(), "away")
	if err := os.Rename(StagedPath(target), away); err != nil {
		t.Fatal(err)
	}
	back := make(chan error, 1)
	time.AfterFunc(300*time.Millisecond, func() { back <- os.Rename(away, StagedPath(target)) })
	if failed, err := commit(target, missing); failed || err != nil {
		t.Fatalf("the new file back after 300 ms: rollback failed %v, %v", failed, err)
	}
	if err := <-back; err != nil {
		t.Fatal(err)
	}
	wantFile(t, target, v2)

	target, v1, _ := stagedFixture(t)
	os.Remove(StagedPath(target))
	start := time.Now()
	failed, err := commit(target, missing)
	if failed || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("gone for good: rollback failed %v, %v", failed, err)
	}
	if took := time.Since(start); took < held.Patience || took > 5*held.Patience {
		t.Errorf("gave up after %v, want about %v", took, held.Patience)
	}
	wantFile(t, target, v1)
	if exists(OldPath(target)) {
		t.Error("the old file is still aside")
	}
}
