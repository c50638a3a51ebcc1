package updater

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/testenv"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/fetch"

	"github.com/aktual/aktual/updater/internal/journal"
)

// killedInPatch leaves beside the harness's target what a run killed
// between applying the patch and keeping its output leaves: the patch
// downloaded and the verified output written, both under their work names.
func killedInPatch(t *testing.T, h *harness) {
	t.Helper()
	plan, err := h.u.Check(t.Context(), CheckRequest{Product: h.prod, Target: h.target})
	if err != nil || plan.Patch == nil {
		t.Fatalf("check: plan %+v, %v; want a patch offered", plan, err)
	}
	if err := h.u.client().DownloadPatch(t.Context(), plan.Patch, patchPath(h.target)); err != nil {
		t.Fatal(err)
	}
	if err := applyPatchFile(t.Context(), h.target, patchPath(h.target), plan.Patch.Size, patchedPath(h.target), plan.Latest); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads files that must come out of recovery unchanged.
func snapshot(t *testing.T, paths ...string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[p] = b
	}
	return m
}

func unchanged(t *testing.T, before map[string][]byte) {
	t.Helper()
	for p, want := range before {
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s changed by recovery (%v)", filepath.Base(p), err)
		}
	}
}

func cleaned(t *testing.T, recs []Recovered, target string) {
	t.Helper()
	want := []string{patchPath(target), patchedPath(target)}
	if len(recs) != 1 || recs[0].Action != ActionCleaned || recs[0].Target != target || recs[0].Err != nil ||
		!slices.Equal(recs[0].Scratch, want) {
		t.Fatalf("recover = %+v, want the patch work files beside %s cleaned", recs, target)
	}
	for _, p := range want {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s is still there", filepath.Base(p))
		}
	}
}

// A run killed in the middle of a patch leaves its work files; recover
// removes them, and nothing else: not the kept download of an earlier
// run (with its sidecar), not the target. The next update then works as
// if nothing had happened.
func TestRecoverRemovesPatchWorkFiles(t *testing.T) {
	h, v3, _ := patchHarness(t)
	// An earlier run's download of 2.0.0, kept for its next run.
	if err := fetch.Adopt(h.target, api.ReleaseStatement{Product: product, Version: "2.0.0", SHA256: sha256Hex(h.v2), Size: int64(len(h.v2))}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fetch.DownloadPath(h.target), h.v2[:1000], 0o600); err != nil {
		t.Fatal(err)
	}
	killedInPatch(t, h)
	keep := snapshot(t, h.target, fetch.DownloadPath(h.target), fetch.SidecarPath(h.target))

	// aktual never updated this program: no journal or install record
	// names it, so it is named to recovery (recover --target).
	recs, err := h.u.Recover(t.Context(), h.target)
	if err != nil {
		t.Fatal(err)
	}
	cleaned(t, recs, h.target)
	unchanged(t, keep)
	if recs, _ := h.u.Recover(t.Context(), h.target); len(recs) != 0 {
		t.Fatalf("second recover = %+v, want nothing", recs)
	}

	if _, err := h.update(h.code); err != nil {
		t.Fatalf("update after recovery: %v", err)
	}
	h.expect(v3, 2, 0, 1)
	h.noPatchDebris()

	// Now an install record names the target: recover finds it alone.
	for _, p := range []string{patchPath(h.target), patchedPath(h.target)} {
		if err := os.WriteFile(p, []byte("scratch"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keep = snapshot(t, h.target)
	recs, err = h.u.Recover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cleaned(t, recs, h.target)
	if recs[0].Product != product {
		t.Errorf("product %q, want %q from the install record", recs[0].Product, product)
	}
	unchanged(t, keep)
}

// A target named only by a journal (an update whose reserve was never
// answered) is looked beside too; the journal is settled by its key.
func TestRecoverRemovesPatchWorkFilesOfJournaled(t *testing.T) {
	h := newHarness(t, 1)
	j := &Journal{Target: h.target, Product: product, Server: h.u.Server, From: "1.0.0", To: "2.0.0",
		IdempotencyKey: "k_test", State: StateIntent, CreatedAt: time.Now().UTC()}
	if err := h.u.save(j); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{patchPath(h.target), patchedPath(h.target)} {
		os.WriteFile(p, []byte("scratch"), 0o600)
	}
	keep := snapshot(t, h.target)
	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 2 || recs[0].Action != ActionDropped {
		t.Fatalf("recover = %+v, %v; want the journal settled by its key (no reserve under it reached the server), then the files cleaned", recs, err)
	}
	cleaned(t, recs[1:], h.target)
	unchanged(t, keep)
}

// The work files of an update running right now are not scratch: they are
// left to it. A link under a work name is removed, never what it points
// to; a program that happens to sit at a work name is never removed.
func TestRecoverLeavesWhatIsNotScratch(t *testing.T) {
	h := newHarness(t, 1)
	keep := snapshot(t, h.target)

	t.Run("another run holds the target", func(t *testing.T) {
		os.WriteFile(patchPath(h.target), []byte("in use"), 0o600)
		unlock, err := journal.Lock(h.target)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := h.u.Recover(t.Context(), h.target)
		unlock()
		if err != nil || len(recs) != 0 {
			t.Fatalf("recover while busy = %+v, %v; want nothing", recs, err)
		}
		if !fileExists(patchPath(h.target)) {
			t.Fatal("removed a work file of a running update")
		}
		recs, _ = h.u.Recover(t.Context(), h.target)
		if len(recs) != 1 || recs[0].Action != ActionCleaned || fileExists(patchPath(h.target)) {
			t.Fatalf("recover once free = %+v", recs)
		}
	})

	t.Run("a link to the target", func(t *testing.T) {
		testenv.SkipUnderWine(t, "Wine makes a symbolic link a Unix one, which its Lstat reports as the file it points to")
		if err := os.Symlink(h.target, patchedPath(h.target)); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
		recs, _ := h.u.Recover(t.Context(), h.target)
		if len(recs) != 1 || recs[0].Action != ActionCleaned {
			t.Fatalf("recover = %+v", recs)
		}
		if _, err := os.Lstat(patchedPath(h.target)); err == nil {
			t.Error("the link is still there")
		}
		unchanged(t, keep)
	})

	t.Run("a program at a work name", func(t *testing.T) {
		other := patchPath(h.target)
		os.WriteFile(other, []byte("another program"), 0o755)
		os.WriteFile(patchedPath(h.target), []byte("scratch"), 0o600)
		recs, _ := h.u.Recover(t.Context(), h.target, other)
		if len(recs) != 1 || !slices.Equal(recs[0].Scratch, []string{patchedPath(h.target)}) {
			t.Fatalf("recover = %+v", recs)
		}
		if b, err := os.ReadFile(other); err != nil || string(b) != "another program" {
			t.Fatalf("the program at %s was touched (%v)", other, err)
		}
		os.Remove(other)
		unchanged(t, keep)
	})

	t.Run("a folder cannot be changed", func(t *testing.T) {
		if runtime.GOOS == "windows" || os.Geteuid() == 0 {
			t.Skip("a read-only folder, as Unix has them, for a user other than root")
		}
		os.WriteFile(patchPath(h.target), []byte("scratch"), 0o600)
		dir := filepath.Dir(h.target)
		os.Chmod(dir, 0o555)
		defer os.Chmod(dir, 0o755)
		recs, _ := h.u.Recover(t.Context(), h.target)
		if len(recs) != 1 || recs[0].Action != ActionPending || recs[0].Err == nil ||
			!slices.Equal(recs[0].Scratch, []string{patchPath(h.target)}) {
			t.Fatalf("recover = %+v, want pending with the file still there", recs)
		}
		os.Chmod(dir, 0o755)
		os.Remove(patchPath(h.target))
		unchanged(t, keep)
	})
}
