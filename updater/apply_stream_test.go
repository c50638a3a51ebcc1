package updater

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// stageFixture is a target at 1.0.0 with mode 0751 and the verified
// download of 2.0.0 beside it.
func stageFixture(t *testing.T) (target string, v2 []byte, sum string) {
	t.Helper()
	target = filepath.Join(t.TempDir(), "ledger")
	if err := os.WriteFile(target, artifact("1.0.0"), 0o751); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o751); err != nil { // past the umask
		t.Fatal(err)
	}
	v2 = artifact("2.0.0")
	if err := os.WriteFile(downloadPath(target), v2, 0o600); err != nil {
		t.Fatal(err)
	}
	return target, v2, sum256(v2)
}

// wantStaged checks the staged file: the new version's bytes, with the
// target's mode.
func wantStaged(t *testing.T, target string, v2 []byte) {
	t.Helper()
	b, err := os.ReadFile(stagedPath(target))
	if err != nil || !bytes.Equal(b, v2) {
		t.Fatalf("staged file: %d bytes, %v; want the new version's %d", len(b), err, len(v2))
	}
	if fi, err := os.Stat(stagedPath(target)); err != nil || fi.Mode().Perm() != 0o751 {
		t.Errorf("staged mode = %v, %v; want the target's 0751", fi.Mode(), err)
	}
}

// The verified download beside the target is staged by a rename: the very
// file, no copy, whether this process knows it verified (no second read)
// or not (hashed again through one buffer).
func TestStageRenamesTheDownload(t *testing.T) {
	for _, known := range []bool{true, false} {
		t.Run(map[bool]string{true: "known-verified", false: "hashed-again"}[known], func(t *testing.T) {
			target, v2, sum := stageFixture(t)
			id, err := fileID(downloadPath(target))
			if err != nil {
				t.Fatal(err)
			}
			if known {
				markVerified(downloadPath(target), sum)
			}
			if err := stage(target, downloadPath(target), sum); err != nil {
				t.Fatalf("stage: %v", err)
			}
			wantStaged(t, target, v2)
			if got, _ := fileID(stagedPath(target)); got != id {
				t.Error("the download was copied, not renamed into place")
			}
			if fileExists(downloadPath(target)) {
				t.Error("the download is still beside the target")
			}
			if _, ok := verifiedFiles.Load(downloadPath(target)); ok {
				t.Error("the verified stamp outlives the staging")
			}
		})
	}
}

// A verified file that changed on disk before it is staged is refused,
// and nothing is staged.
func TestStageRefusesAChangedFile(t *testing.T) {
	for name, change := range map[string]func(t *testing.T, path, sum string){
		"rewritten after it was verified": func(t *testing.T, path, sum string) {
			markVerified(path, sum)
			b, _ := os.ReadFile(path)
			b[len(b)/2] ^= 1
			os.WriteFile(path, b, 0o600)
			// The write moves the modification time; made sure of
			// here, for a file system with a coarse clock.
			os.Chtimes(path, time.Now(), time.Now().Add(time.Hour))
		},
		"never verified by this process": func(t *testing.T, path, sum string) {
			b, _ := os.ReadFile(path)
			b[0] ^= 1
			os.WriteFile(path, b, 0o600)
		},
		"verified for another release": func(t *testing.T, path, sum string) {
			b, _ := os.ReadFile(path)
			b[0] ^= 1
			os.WriteFile(path, b, 0o600)
			markVerified(path, sum256(b)) // its own hash, not the signed one
		},
		"replaced by another file": func(t *testing.T, path, sum string) {
			markVerified(path, sum)
			b, _ := os.ReadFile(path)
			b[0] ^= 1
			os.Remove(path)
			os.WriteFile(path, b, 0o600)
		},
	} {
		t.Run(name, func(t *testing.T) {
			target, _, sum := stageFixture(t)
			change(t, downloadPath(target), sum)
			err := stage(target, downloadPath(target), sum)
			if err == nil || !strings.Contains(err.Error(), "changed on disk") {
				t.Fatalf("stage = %v; want the file refused as changed on disk", err)
			}
			if fileExists(stagedPath(target)) {
				t.Error("a changed file was staged")
			}
		})
	}
}

// A verified file in another folder (a rename there could cross devices)
// is copied into a new staged file, hashed as it is copied.
func TestStageCopiesFromAnotherFolder(t *testing.T) {
	target, v2, sum := stageFixture(t)
	elsewhere := filepath.Join(t.TempDir(), "release")
	if err := os.WriteFile(elsewhere, v2, 0o600); err != nil {
		t.Fatal(err)
	}
	// A staged file left by another run is replaced by a new one, never
	// written over: the journal knows the staged file by its identity.
	if err := os.WriteFile(stagedPath(target), []byte("left by another run"), 0o600); err != nil {
		t.Fatal(err)
	}
	stale, _ := fileID(stagedPath(target))
	if err := stage(target, elsewhere, sum); err != nil {
		t.Fatalf("stage: %v", err)
	}
	wantStaged(t, target, v2)
	if id, _ := fileID(stagedPath(target)); id == stale {
		t.Error("the stale staged file was written over, not replaced")
	}
	if !fileExists(elsewhere) {
		t.Error("the file in the other folder was moved")
	}

	bad := append([]byte(nil), v2...)
	bad[0] ^= 1
	os.WriteFile(elsewhere, bad, 0o600)
	os.Remove(stagedPath(target))
	if err := stage(target, elsewhere, sum); err == nil || !strings.Contains(err.Error(), "changed on disk") {
		t.Fatalf("stage of a changed file = %v; want it refused", err)
	}
	if fileExists(stagedPath(target)) {
		t.Error("a changed file was staged")
	}
}

// countArtifacts counts the artifact requests that reach the server.
func countArtifacts(n *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/artifacts/") {
				n.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// updateStoppedAfterStaging runs an update that the user stops (Ctrl-C)
// while it installs: after the new version is staged, before the swap.
func (h *harness) updateStoppedAfterStaging() error {
	ctx, cancel := context.WithCancel(h.t.Context())
	defer cancel()
	events := h.u.Events
	defer func() { h.u.Events = events }()
	h.u.Events = func(e Event) {
		if e.Event == EventPhase && e.Phase == PhaseApply {
			cancel() // stage runs, then the check before the swap stops it
		}
	}
	_, err := h.u.Update(ctx, Request{
		CheckRequest: CheckRequest{Product: h.prod, Target: h.target},
		Credential:   func(context.Context, *Plan) (api.Credential, error) { return api.Credential{Code: h.code}, nil },
	})
	return err
}

// The staged file is the verified download, renamed: a Ctrl-C before the
// swap makes it the kept download again, so the next run installs it
// without downloading it again.
func TestStopAfterStagingKeepsTheDownload(t *testing.T) {
	h := newHarness(t, 2)
	if err := h.updateStoppedAfterStaging(); err == nil || !strings.Contains(err.Error(), "stopped before installing") {
		t.Fatalf("update = %v; want it stopped before installing", err)
	}
	h.expect(h.v1, 2, 0, 0)
	if !keptWhole(h.target) {
		t.Fatal("the verified download was not kept")
	}
	if j, _ := h.u.loadJournal(h.target); j != nil {
		t.Errorf("journal kept: %+v", j)
	}

	var requests atomic.Int32
	h.wrap = countArtifacts(&requests)
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("the next update: %v", err)
	}
	h.expect(h.v2, 1, 0, 1)
	if n := requests.Load(); n != 0 {
		t.Errorf("the next update downloaded the release again (%d requests)", n)
	}
	if fileExists(downloadPath(h.target)) || fileExists(sidecarPath(h.target)) {
		t.Error("the download is left after the install")
	}
}

// A Ctrl-C after staging whose release cannot reach the server: the
// journal stays (at "reserved", for the next run to give the unit back)
// and the download is kept, but the journal no longer names that file.
// Another run, from another state folder, then installs the kept download
// itself: the first journal's recovery must give its unit back, not take
// the target (the very file it once staged) for its own swap.
func TestKeptDownloadInstalledByAnotherRunIsNotCountedTwice(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = failing("/release")
	if err := h.updateStoppedAfterStaging(); err == nil {
		t.Fatal("the stopped update succeeded")
	}
	j, err := h.u.loadJournal(h.target)
	if err != nil || j == nil || j.State != StateReserved || j.StagedID != "" {
		t.Fatalf("journal = %+v, %v; want it at reserved, naming no staged file", j, err)
	}
	if !keptWhole(h.target) || fileExists(stagedPath(h.target)) {
		t.Fatal("want the verified download kept and nothing staged")
	}
	kept, _ := fileID(downloadPath(h.target))

	h.wrap = nil
	other := *h.u
	other.StateDir = t.TempDir()
	if _, err := other.Update(t.Context(), Request{
		CheckRequest: CheckRequest{Product: h.prod, Target: h.target},
		Credential:   func(context.Context, *Plan) (api.Credential, error) { return api.Credential{Code: h.code}, nil },
	}); err != nil {
		t.Fatalf("the other run's update: %v", err)
	}
	if id, _ := fileID(h.target); id != kept {
		t.Fatal("the other run did not install the kept download itself; the test proves nothing")
	}

	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReleased {
		t.Fatalf("recover = %+v, %v; want the first run's unit given back", recs, err)
	}
	h.expect(h.v2, 1, 0, 1)
}

// A crash after staging (the journal at "staged"): recovery gives the unit
// back and keeps the staged file as the download, for the next run.
func TestRecoverAfterStagingKeepsTheDownload(t *testing.T) {
	h := newHarness(t, 2)
	// A run stopped after the reserve could give nothing back: its
	// journal holds the reservation, and the verified download is kept.
	h.wrap = failing("/release")
	if err := h.updateStoppedAfterStaging(); err == nil {
		t.Fatal("the stopped update succeeded")
	}
	h.wrap = nil
	j, err := h.u.loadJournal(h.target)
	if err != nil || j == nil {
		t.Fatalf("journal = %+v, %v", j, err)
	}
	// The state a crash just after staging leaves.
	if err := stage(h.target, downloadPath(h.target), j.NewSHA256); err != nil {
		t.Fatal(err)
	}
	if j.StagedID, err = fileID(stagedPath(h.target)); err != nil {
		t.Fatal(err)
	}
	j.State = StateStaged
	if err := h.u.save(j); err != nil {
		t.Fatal(err)
	}

	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReleased {
		t.Fatalf("recover = %+v, %v; want the unit given back", recs, err)
	}
	h.expect(h.v1, 2, 0, 0)
	if !keptWhole(h.target) {
		t.Error("the staged download was not kept for the next run")
	}
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("the next update: %v", err)
	}
	h.expect(h.v2, 1, 0, 1)
}
