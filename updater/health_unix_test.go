//go:build !windows

package updater

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/updater/internal/swap"
)

// script is a program that prints its version and exits with status
// (or sleeps first), padded so versions differ in size too.
func script(version string, status int, sleep string) []byte {
	s := "#!/bin/sh\n"
	if sleep != "" {
		s += "sleep " + sleep + "\n"
	}
	s += "echo ledger " + version + "\nexit " + string(rune('0'+status)) + "\n# " + version + "\n"
	return []byte(s)
}

// healthHarness publishes 2.0.0 as a program with a health check.
func healthHarness(t *testing.T, v2 []byte) *harness {
	h := newHarness(t, 2)
	h.v1 = script("1.0.0", 0, "")
	if err := os.WriteFile(h.target, h.v1, 0o755); err != nil {
		t.Fatal(err)
	}
	h.publish(product, "pro", "1.0.1", h.v1) // the catalogue knows the installed bytes
	h.v2 = v2
	if _, err := h.admin.Publish(t.Context(), admin.PublishParams{Product: product, Series: "pro", Version: "3.0.0",
		OS: "linux", Arch: "amd64", File: bytes.NewReader(v2), AutoHealthCheck: true}); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHealthCheckPasses(t *testing.T) {
	h := healthHarness(t, script("3.0.0", 0, ""))
	res, err := h.update(h.code)
	if err != nil || res.To != "3.0.0" {
		t.Fatalf("update = %+v, %v", res, err)
	}
	h.expect(h.v2, 1, 0, 1)
	if fileExists(swap.OldPath(h.target)) {
		t.Error("the old version was left beside the target")
	}
	var checked bool
	for _, e := range h.events {
		checked = checked || e.Phase == PhaseHealth
	}
	if !checked {
		t.Error("no health-check phase reported")
	}
}

func TestHealthCheckFailureRollsBack(t *testing.T) {
	for name, tc := range map[string]struct {
		v2      []byte
		timeout time.Duration
		msg     string
	}{
		"exits non-zero": {script("3.0.0", 3, ""), 0, "exit status 3: ledger 3.0.0"},
		"hangs":          {script("3.0.0", 0, "30"), 300 * time.Millisecond, "did not finish within 300ms"},
	} {
		t.Run(name, func(t *testing.T) {
			h := healthHarness(t, tc.v2)
			h.u.HealthTimeout = tc.timeout
			_, err := h.update(h.code)
			wantKind(t, err, ErrApply)
			if !strings.Contains(err.Error(), "failed its health check") || !strings.Contains(err.Error(), tc.msg) ||
				!strings.Contains(err.Error(), "no update was used") {
				t.Fatalf("message: %v", err)
			}
			h.expect(h.v1, 2, 0, 0)
			if fileExists(swap.OldPath(h.target)) {
				t.Error("debris: .old left")
			}
			if j, _ := h.u.loadJournal(h.target); j != nil {
				t.Errorf("journal left: %+v", j)
			}
		})
	}
}

// A crash between the swap and the end of the health check: recovery runs
// the check again, and either reports the update or puts the old version
// back and gives the unit back.
func TestRecoveryRerunsHealthCheck(t *testing.T) {
	for name, tc := range map[string]struct {
		status   int
		action   string
		consumed int64
	}{
		"passes": {0, ActionReported, 1},
		"fails":  {4, ActionReleased, 0},
	} {
		t.Run(name, func(t *testing.T) {
			h := healthHarness(t, script("3.0.0", tc.status, ""))
			crashedDuringHealthCheck(t, h)
			recs, err := h.u.Recover(t.Context())
			if err != nil || len(recs) != 1 || recs[0].Action != tc.action || recs[0].RolledBack != (tc.status != 0) {
				t.Fatalf("recover = %+v, %v", recs, err)
			}
			want := map[bool][]byte{true: h.v2, false: h.v1}[tc.status == 0]
			h.expect(want, 2-tc.consumed, 0, tc.consumed)
			if fileExists(swap.OldPath(h.target)) {
				t.Error("debris: .old left")
			}
		})
	}
}

// crashedDuringHealthCheck leaves what a crash during the health check
// leaves: one unit held, the new version at the target, the old one aside,
// the journal at "staged".
func crashedDuringHealthCheck(t *testing.T, h *harness) {
	t.Helper()
	code, _ := api.ParseCode(h.code)
	res, _, err := h.inst.Store.Reserve(t.Context(), store.ReserveParams{
		IdempotencyKey: "k_crash", Credential: store.Credential{CodeHash: keyring.CodeHash(h.inst.Keys.CodeSecret, code)},
		Series: api.SeriesPro, Product: product, FromVersion: "1.0.1", ToVersion: "3.0.0", MachineID: "m_test",
		Now: time.Now(), TTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(swap.OldPath(h.target), h.v1, 0o755)
	os.WriteFile(h.target, h.v2, 0o755)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	j := &Journal{Target: h.target, Product: product, Server: h.u.Server, From: "1.0.1", To: "3.0.0",
		OldSHA256: sum(h.v1), NewSHA256: sum(h.v2), HealthCheck: []string{"--version"},
		IdempotencyKey: "k_crash", ReservationID: res.ID, State: StateStaged, CreatedAt: time.Now()}
	if err := h.u.save(j); err != nil {
		t.Fatal(err)
	}
}

// The checked program never sees aktual's settings, the update code least.
func TestHealthCheckDoesNotSeeTheCode(t *testing.T) {
	t.Setenv("AKTUAL_CODE", "12345-67890-12345-67890-12345")
	v2 := []byte("#!/bin/sh\n[ -z \"$AKTUAL_CODE\" ] || exit 9\necho ledger 3.0.0\n")
	h := healthHarness(t, v2)
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("the check saw AKTUAL_CODE: %v", err)
	}
}
