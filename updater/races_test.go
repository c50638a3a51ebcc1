package updater

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aktual/aktual/updater/internal/fetch"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/journal"
)

// updateConcurrently runs one Update per updater at once (released by one
// start signal, so they overlap as much as they can) on the matching
// target, and returns each result and error.
func updateConcurrently(h *harness, us []*Updater, targets []string) ([]*Result, []error) {
	results, errs := make([]*Result, len(us)), make([]error, len(us))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range us {
		wg.Go(func() {
			<-start
			results[i], errs[i] = u.Update(context.Background(), Request{
				CheckRequest: CheckRequest{Product: product, Target: targets[i]},
				Credential:   func(context.Context, *Plan) (api.Credential, error) { return api.Credential{Code: h.code}, nil },
			})
		})
	}
	close(start)
	wg.Wait()
	return results, errs
}

// wantOnlyTarget fails if target's folder holds anything but the target
// and its lock file (which is never removed, by design).
func wantOnlyTarget(t *testing.T, target string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(target))
	if err != nil {
		t.Fatal(err)
	}
	kept := keptWhole(target)
	for _, e := range entries {
		name := e.Name()
		if kept && (name == filepath.Base(fetch.DownloadPath(target)) || name == filepath.Base(fetch.SidecarPath(target))) {
			continue // verified, kept for the next run
		}
		if name != filepath.Base(target) && name != filepath.Base(journal.LockPath(target)) {
			t.Errorf("left behind %s beside %s", name, filepath.Base(target))
		}
	}
}

// Eight machines race to update with one code that has three updates left:
// exactly three are updated, five are told none remain and keep their old
// version untouched, and no unit is spent twice or left held.
func TestMachinesRaceForTheLastUpdates(t *testing.T) {
	const machines, left = 8, 3
	h := newHarness(t, left)
	us, targets := make([]*Updater, machines), make([]string, machines)
	for i := range us {
		u := *h.u
		u.StateDir = t.TempDir()
		u.Events = nil
		id := fmt.Sprintf("m_race_%d", i)
		u.MachineID = func() (string, error) { return id, nil }
		us[i] = &u
		targets[i] = filepath.Join(t.TempDir(), "ledger")
		if err := os.WriteFile(targets[i], h.v1, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	results, errs := updateConcurrently(h, us, targets)

	var updated, exhausted int
	for i, err := range errs {
		got, rerr := os.ReadFile(targets[i])
		if rerr != nil {
			t.Fatalf("machine %d: %v", i, rerr)
		}
		switch {
		case err == nil && results[i].Status == StatusUpdated:
			updated++
			if !bytes.Equal(got, h.v2) {
				t.Errorf("machine %d reported updated but its target is not 2.0.0", i)
			}
		case errors.Is(err, ErrExhausted):
			exhausted++
			if !bytes.Equal(got, h.v1) {
				t.Errorf("machine %d was refused but its target changed", i)
			}
		default:
			t.Errorf("machine %d: result %+v, error %v", i, results[i], err)
		}
		if j, _ := us[i].loadJournal(targets[i]); j != nil {
			t.Errorf("machine %d kept a journal: %+v", i, j)
		}
		wantOnlyTarget(t, targets[i])
	}
	if updated != left || exhausted != machines-left {
		t.Errorf("%d updated and %d exhausted, want %d and %d", updated, exhausted, left, machines-left)
	}
	st := h.counts()
	if st.Remaining != 0 || st.Held != 0 || st.Consumed != left || st.Overdraft != 0 {
		t.Errorf("counts %+v, want remaining 0, held 0, consumed %d", st.Counts, left)
	}
	if rep, err := h.admin.Audit(t.Context()); err != nil || !rep.OK() {
		t.Errorf("audit: %+v %v", rep.Violations, err)
	}
}

// Four runs on one machine (one state directory) race to update the same
// target: one updates it; each other one is refused as busy or, coming
// after, finds it up to date. One unit is spent.
func TestRunsSharingStateDirRaceOnOneTarget(t *testing.T) {
	const runs = 4
	h := newHarness(t, 5)
	us, targets := make([]*Updater, runs), make([]string, runs)
	for i := range us {
		u := *h.u
		u.Events = nil
		us[i], targets[i] = &u, h.target
	}

	results, errs := updateConcurrently(h, us, targets)

	var updated, upToDate, busy int
	for i, err := range errs {
		switch {
		case err == nil && results[i].Status == StatusUpdated:
			updated++
		case err == nil && results[i].Status == StatusUpToDate:
			upToDate++
		case errors.Is(err, ErrBusy):
			busy++
		default:
			t.Errorf("run %d: result %+v, error %v", i, results[i], err)
		}
	}
	t.Logf("%d updated, %d busy, %d up to date", updated, busy, upToDate)
	if updated != 1 {
		t.Errorf("%d runs updated the target, want 1", updated)
	}
	h.expect(h.v2, 4, 0, 1)
	if j, _ := h.u.loadJournal(h.target); j != nil {
		t.Errorf("journal kept: %+v", j)
	}
	wantOnlyTarget(t, h.target)
}
