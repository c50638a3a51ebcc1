package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/updater/internal/swap"
)

func sum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// heldJournal leaves what a crash at state leaves: one unit held under key
// on the server, and the journal of h's target.
func heldJournal(t *testing.T, h *harness, u *Updater, state, key, stagedID string) *Journal {
	t.Helper()
	code, _ := api.ParseCode(h.code)
	res, _, err := h.inst.Store.Reserve(t.Context(), store.ReserveParams{
		IdempotencyKey: key, Credential: store.Credential{CodeHash: keyring.CodeHash(h.inst.Keys.CodeSecret, code)},
		Series: api.SeriesPro, Product: product, FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "m_test",
		Now: time.Now(), TTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	j := &Journal{Target: h.target, Product: product, Server: u.Server, From: "1.0.0", To: "2.0.0",
		OldSHA256: sum256(h.v1), NewSHA256: sum256(h.v2), IdempotencyKey: key, ReservationID: res.ID,
		State: state, StagedID: stagedID, CreatedAt: time.Now()}
	if err := u.save(j); err != nil {
		t.Fatal(err)
	}
	return j
}

// Two state directories on one target (root and a user): A dies after
// staging; B updates the program fully. A's recovery must see that the new
// bytes at the target are not its file, and give its unit back: one
// install, one unit.
func TestAnotherRunsInstallIsNotChargedTwice(t *testing.T) {
	h := newHarness(t, 3)
	a := *h.u
	a.StateDir = t.TempDir()
	heldJournal(t, h, &a, StateStaged, "k_a", "0:0") // A's staged file is gone
	if _, err := h.update(h.code); err != nil {      // B, the harness's own state dir
		t.Fatal(err)
	}
	recs, err := a.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReleased {
		t.Fatalf("A's recovery = %+v, %v", recs, err)
	}
	h.expect(h.v2, 2, 0, 1)
}

// A journal at "reserved" never swapped anything: new bytes at the target
// came from elsewhere, and the unit is given back.
func TestReservedJournalIsNeverTakenAsApplied(t *testing.T) {
	h := newHarness(t, 2)
	heldJournal(t, h, h.u, StateReserved, "k_r", "")
	os.WriteFile(h.target, h.v2, 0o755) // reinstalled by hand
	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReleased {
		t.Fatalf("recover = %+v, %v", recs, err)
	}
	h.expect(h.v2, 2, 0, 0)
}

// The program was removed (no target, no old version) while a staged file
// remained: recovery does not reinstall it, and gives the unit back.
func TestRemovedProgramIsNotReinstalled(t *testing.T) {
	h := newHarness(t, 2)
	os.WriteFile(swap.StagedPath(h.target), h.v2, 0o755)
	id, _ := swap.FileID(swap.StagedPath(h.target))
	heldJournal(t, h, h.u, StateStaged, "k_s", id)
	os.Remove(h.target)
	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReleased {
		t.Fatalf("recover = %+v, %v", recs, err)
	}
	if fileExists(h.target) || fileExists(swap.StagedPath(h.target)) {
		t.Error("recovery put a removed program back")
	}
	if st := h.counts(); st.Remaining != 2 || st.Held != 0 || st.Consumed != 0 {
		t.Fatalf("counts %+v", st.Counts)
	}
}

// An applied update is reported even when the program's whole folder is
// gone (uninstalled): nothing of the target is needed to report it.
func TestAppliedIsReportedAfterFolderRemoved(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = failing("/complete")
	if _, err := h.update(h.code); err == nil {
		t.Fatal("expected the completion to fail")
	}
	h.wrap = nil
	os.RemoveAll(filepath.Dir(h.target))
	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReported {
		t.Fatalf("recover = %+v, %v", recs, err)
	}
	if st := h.counts(); st.Consumed != 1 || st.Held != 0 {
		t.Fatalf("counts %+v", st.Counts)
	}
}

// The reserve's answer was lost; the customer then types another (valid)
// code: refused, and the interrupted update's key is kept, so the right
// code finishes it with the unit already held for it.
func TestResumedKeySurvivesAnotherCode(t *testing.T) {
	h := newHarness(t, 1)
	h.wrap = lostAnswer("/v1/reservations")
	if _, err := h.update(h.code); err == nil {
		t.Fatal("expected the lost answer to fail the update")
	}
	h.wrap = nil
	other, err := h.admin.ActivatePro(context.Background(), "Other Ltd", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.update(other.Code)
	wantKind(t, err, ErrCredentialRejected)
	if !strings.Contains(err.Error(), "started with another code") {
		t.Fatalf("message: %v", err)
	}
	if j, _ := h.u.loadJournal(h.target); j == nil || j.State != StateIntent {
		t.Fatalf("the interrupted update's key was dropped: %+v", j)
	}
	if res, err := h.update(h.code); err != nil || res.Status != StatusUpdated {
		t.Fatalf("update with the right code = %+v, %v", res, err)
	}
	h.expect(h.v2, 0, 0, 1)
}
