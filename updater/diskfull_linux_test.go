//go:build linux

package updater

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/updater/internal/swap"
)

// smallFSSize is the size of the file system the target lives on in these
// tests: 16 pages.
const smallFSSize = 64 << 10

// mountSmallFS mounts a tmpfs of smallFSSize bytes on a fresh folder and
// unmounts it when the test ends. Mounting needs root (CAP_SYS_ADMIN): the
// test fails rather than skips without it, so that a run that cannot prove
// this is never mistaken for one that did.
func mountSmallFS(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(smallFSSize)); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Fatalf("mounting a 64 KiB tmpfs on %s: %v. This test needs root (CAP_SYS_ADMIN) to mount a real "+
				"size-limited file system; CI runs it as root. Run it as root, e.g. sudo go test ./updater/", dir, err)
		}
		t.Fatalf("mounting a 64 KiB tmpfs on %s: %v", dir, err)
	}
	// Registered after t.TempDir's removal, so it runs before it.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// smallFSHarness is the harness with its target, a small 1.0.0 of product
// "tiny", on a small file system, and a 2.0.0 of newSize bytes published.
func smallFSHarness(t *testing.T, newSize int) *harness {
	t.Helper()
	h := newHarness(t, 2)
	h.prod = "tiny"
	h.v1 = bytes.Repeat([]byte("tiny 1.0.0\n"), 100)
	h.v2 = bytes.Repeat([]byte("tiny 2.0.0\n"), newSize/11+1)[:newSize]
	h.publish(h.prod, api.SeriesPro, "1.0.0", h.v1)
	h.publish(h.prod, api.SeriesPro, "2.0.0", h.v2)
	h.target = filepath.Join(mountSmallFS(t), h.prod)
	if err := os.WriteFile(h.target, h.v1, 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

// reached reports whether the update announced phase.
func (h *harness) reached(phase string) bool {
	return slices.ContainsFunc(h.events, func(e Event) bool { return e.Event == EventPhase && e.Phase == phase })
}

// The new version is larger than the target's whole file system: the
// download cannot be written. Nothing was reserved, so nothing is held or
// spent, and the target is untouched.
func TestDiskFullDuringDownload(t *testing.T) {
	h := smallFSHarness(t, 4*smallFSSize)
	_, err := h.update(h.code)
	wantKind(t, err, ErrApply)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "free some space") {
		t.Fatalf("error = %v, want one that says the disk is full and what to do", err)
	}
	h.expect(h.v1, 2, 0, 0)
	wantOnlyTarget(t, h.target)
	if h.reached(PhaseReserve) {
		t.Error("the update reached the reserve")
	}
	if got, _ := os.ReadFile(h.target); !bytes.Equal(got, h.v1) {
		t.Error("target changed")
	}
	if st := h.counts(); st.Remaining != 2 || st.Held != 0 || st.Consumed != 0 {
		t.Errorf("counts %+v, want 2 remaining, none held or consumed", st.Counts)
	}
	if rep, err := h.admin.Audit(t.Context()); err != nil || !rep.OK() {
		t.Errorf("audit: %+v %v", rep.Violations, err)
	}
	if fileExists(swap.StagedPath(h.target)) {
		t.Error("left behind a staged file")
	}
	if j, _ := h.u.loadJournal(h.target); j != nil {
		t.Errorf("journal kept: %+v", j)
	}
	if got, want := h.ledgerKinds(), []string{store.LedgerPurchase}; !slices.Equal(got, want) {
		t.Errorf("ledger = %v, want %v", got, want)
	}
}

// The download fits but a second copy beside it would not: staging is a
// rename of the verified download (apply.go's stage), not a copy, so the
// update needs no more room than the download and succeeds.
func TestDiskFullStagingNeedsNoCopy(t *testing.T) {
	const size = 40 << 10 // one copy fits in smallFSSize, two do not
	h := smallFSHarness(t, size)
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("update: %v", err)
	}
	h.expect(h.v2, 1, 0, 1)
	wantOnlyTarget(t, h.target)
	if j, _ := h.u.loadJournal(h.target); j != nil {
		t.Errorf("journal kept: %+v", j)
	}
	want := []string{store.LedgerPurchase, store.LedgerReserve, store.LedgerComplete}
	if got := h.ledgerKinds(); !slices.Equal(got, want) {
		t.Errorf("ledger = %v, want %v", got, want)
	}
}
