package updater

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aktual/aktual/updater/internal/fetch"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/swap"
)

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
	if fileExists(fetch.DownloadPath(h.target)) || fileExists(fetch.SidecarPath(h.target)) {
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
	if !keptWhole(h.target) || fileExists(swap.StagedPath(h.target)) {
		t.Fatal("want the verified download kept and nothing staged")
	}
	kept, _ := swap.FileID(fetch.DownloadPath(h.target))

	h.wrap = nil
	other := *h.u
	other.StateDir = t.TempDir()
	if _, err := other.Update(t.Context(), Request{
		CheckRequest: CheckRequest{Product: h.prod, Target: h.target},
		Credential:   func(context.Context, *Plan) (api.Credential, error) { return api.Credential{Code: h.code}, nil },
	}); err != nil {
		t.Fatalf("the other run's update: %v", err)
	}
	if id, _ := swap.FileID(h.target); id != kept {
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
	if err := swap.Stage(h.target, fetch.DownloadPath(h.target), j.NewSHA256); err != nil {
		t.Fatal(err)
	}
	if j.StagedID, err = swap.FileID(swap.StagedPath(h.target)); err != nil {
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
