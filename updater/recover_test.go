package updater

import (
	"os"
	"testing"

	"github.com/aktual/aktual/updater/internal/swap"
)

// The completion cannot be reported: the update is applied, exit 8, and the
// next run reports it; the unit is consumed exactly once.
func TestCompletionRetriedByRecovery(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = failing("/complete")
	res, err := h.update(h.code)
	wantKind(t, err, ErrNotReported)
	if res == nil || res.Status != StatusApplied {
		t.Fatalf("result = %+v", res)
	}
	h.expect(h.v2, 1, 1, 0) // applied; still held
	j, _ := h.u.loadJournal(h.target)
	if j == nil || j.State != StateApplied {
		t.Fatalf("journal = %+v, want applied", j)
	}

	// Still failing: recover keeps it pending.
	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionPending {
		t.Fatalf("recover = %+v, %v", recs, err)
	}
	h.wrap = nil
	recs, err = h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReported {
		t.Fatalf("recover = %+v, %v", recs, err)
	}
	h.expect(h.v2, 1, 0, 1)
	// Recovering again finds nothing and changes nothing.
	if recs, _ := h.u.Recover(t.Context()); len(recs) != 0 {
		t.Fatalf("second recover = %+v", recs)
	}
	h.expect(h.v2, 1, 0, 1)
}

// A crash after the reserve but before the swap: recovery gives the unit
// back and removes the staged file.
func TestRecoveryReleasesWhatNeverApplied(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = failing("/complete")
	if _, err := h.update(h.code); err == nil {
		t.Fatal("expected the completion to fail")
	}
	// Pretend the process died before the swap: old contents back,
	// journal at "staged", a staged file lying beside the target.
	j, _ := h.u.loadJournal(h.target)
	os.WriteFile(h.target, h.v1, 0o755)
	os.WriteFile(swap.StagedPath(h.target), h.v2, 0o755)
	j.State = StateStaged
	h.u.save(j)
	h.wrap = nil
	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReleased {
		t.Fatalf("recover = %+v, %v", recs, err)
	}
	h.expect(h.v1, 2, 0, 0)
}

// A crash between the two renames of the swap: the target is missing, the
// old file aside, the verified new file staged. Recovery finishes the swap.
func TestRecoveryFinishesInterruptedSwap(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = failing("/complete")
	h.update(h.code)
	j, _ := h.u.loadJournal(h.target)
	j.State = StateStaged
	h.u.save(j)
	os.Rename(h.target, swap.StagedPath(h.target)) // new file back to staging
	old := h.target[:len(h.target)-len("ledger")] + ".ledger.old"
	os.WriteFile(old, h.v1, 0o755)
	h.wrap = nil
	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReported {
		t.Fatalf("recover = %+v, %v", recs, err)
	}
	h.expect(h.v2, 1, 0, 1)
}

// The reserve's answer was lost: the next update resumes the same
// reservation by its idempotency key instead of holding a second unit.
func TestLostReserveAnswerIsResumed(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = failing("/complete")
	h.update(h.code)
	j, _ := h.u.loadJournal(h.target)
	// Back to the moment after the reserve left: journal at intent, the
	// server holding the unit, the target still old.
	os.WriteFile(h.target, h.v1, 0o755)
	j.State, j.ReservationID = StateIntent, ""
	h.u.save(j)
	h.wrap = nil
	res, err := h.update(h.code)
	if err != nil || res.Status != StatusUpdated {
		t.Fatalf("update = %+v, %v", res, err)
	}
	h.expect(h.v2, 1, 0, 1)
}
