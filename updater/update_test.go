package updater

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/swap"
)

func TestUpdateHappyPath(t *testing.T) {
	h := newHarness(t, 3)
	res, err := h.update(h.code)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusUpdated || res.From != "1.0.0" || res.To != "2.0.0" || res.Remaining == nil || *res.Remaining != 2 {
		t.Fatalf("result = %+v", res)
	}
	h.expect(h.v2, 2, 0, 1)
	if fi, _ := os.Stat(h.target); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o755 { // Windows keeps no Unix mode
		t.Errorf("target mode = %v, want 0755 kept", fi.Mode())
	}
	var sawProgress bool
	for _, e := range h.events {
		if e.Event == EventProgress && e.Done == e.Total && e.Total == int64(len(h.v2)) {
			sawProgress = true
		}
	}
	if !sawProgress {
		t.Error("no final progress event with the whole size")
	}
	if j, _ := h.u.loadJournal(h.target); j != nil {
		t.Errorf("journal left after a finished update: %+v", j)
	}

	// Again: up to date, nothing used.
	res, err = h.update(h.code)
	if err != nil || res.Status != StatusUpToDate || res.From != "2.0.0" {
		t.Fatalf("second update = %+v, %v", res, err)
	}
	h.expect(h.v2, 2, 0, 1)
}

func TestUpdateFindsVersionFromInstallRecord(t *testing.T) {
	h := newHarness(t, 3)
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	// A locally patched file the catalogue does not know: without a record
	// it cannot be placed, with --from-version it can.
	os.WriteFile(h.target, []byte("patched"), 0o755)
	_, err := h.u.Check(t.Context(), CheckRequest{Product: product, Target: h.target})
	wantKind(t, err, ErrUsage)
	plan, err := h.u.Check(t.Context(), CheckRequest{Product: product, Target: h.target, FromVersion: "1.5.0"})
	if err != nil || plan.From != "1.5.0" || plan.FromSource != "--from-version" || plan.UpToDate {
		t.Fatalf("plan = %+v, %v", plan, err)
	}
}

// Every way an update can fail: the right exit kind, the target as it was,
// and no update used.
func TestUpdateFailuresChangeNothing(t *testing.T) {
	// Windows denies the swap's rename onto a folder (access denied),
	// which is tried again for a moment and then said with what to do.
	swapRefused := "cannot replace"
	if runtime.GOOS == "windows" {
		swapRefused = "Windows denied access"
	}
	tests := []struct {
		name  string
		setup func(h *harness) (code string)
		kind  error
		msg   string
	}{
		{"unknown code", func(h *harness) string { c, _ := api.NewCode(); return c.String() },
			ErrCredentialRejected, "not known"},
		{"malformed code reaching the server", func(h *harness) string { return "12345" },
			ErrCredentialRejected, "25"},
		{"no updates left", func(h *harness) string {
			holdAll(h)
			return h.code
		}, ErrExhausted, "no paid updates remain"},
		{"wrong series", func(h *harness) string {
			h.publish(product+"-classic", api.SeriesClassic, "1.0.0", []byte("c1"))
			h.publish(product+"-classic", api.SeriesClassic, "2.0.0", []byte("c2"))
			os.WriteFile(h.target, []byte("c1"), 0o755)
			h.prod = product + "-classic"
			return h.code
		}, ErrCredentialRejected, "classic-series"},
		{"corrupt artifact on the server", func(h *harness) string {
			corruptBlob(h, h.v2)
			return h.code
		}, ErrVerification, "does not match"},
		{"server's keys vouched for by another root", func(h *harness) string {
			_, other, _ := ed25519.GenerateKey(rand.Reader)
			h.u.Trust = &api.Trust{Version: api.TrustVersion, RootKeys: []api.PublicKey{api.NewPublicKey(other.Public().(ed25519.PublicKey))}}
			return h.code
		}, ErrVerification, "not vouched for by your trust file's root key"},
		{"replayed old answer", func(h *harness) string {
			h.u.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
			return h.code
		}, ErrVerification, "expired"},
		{"server down", func(h *harness) string { h.ts.Close(); return h.code },
			ErrNoConnection, "cannot reach"},
		{"unwritable target folder", func(h *harness) string {
			// A directory where the permission probe must create a file
			// fails for every user, root included.
			os.Mkdir(filepath.Join(filepath.Dir(h.target), ".ledger.check-perm"), 0o755)
			return h.code
		}, ErrApply, "cannot write the folder"},
		{"apply fails after reserving", func(h *harness) string {
			os.Mkdir(swap.StagedPath(h.target), 0o755) // selfupdate cannot write .ledger.new
			return h.code
		}, ErrApply, "no update was used"},
		{"swap fails after staging", func(h *harness) string {
			// selfupdate's first rename (target → .ledger.old) cannot
			// replace a non-empty folder, for any user.
			os.MkdirAll(filepath.Join(swap.OldPath(h.target), "busy"), 0o755)
			return h.code
		}, ErrApply, swapRefused},
		{"missing target", func(h *harness) string { os.Remove(h.target); return h.code },
			ErrUsage, "does not exist"},
		{"unknown product", func(h *harness) string { h.u.OS = "plan9"; return h.code },
			ErrUsage, "publishes no release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 2)
			code := tt.setup(h)
			before := h.counts()
			beforeTarget, _ := os.ReadFile(h.target)
			_, err := h.update(code)
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not say %q", err, tt.msg)
			}
			if tt.name == "missing target" {
				return
			}
			after := h.counts()
			if after.Remaining != before.Remaining || after.Consumed != before.Consumed {
				t.Errorf("counts changed: before %+v after %+v", before.Counts, after.Counts)
			}
			if got, _ := os.ReadFile(h.target); string(got) != string(beforeTarget) {
				t.Error("target changed")
			}
			if j, _ := h.u.loadJournal(h.target); j != nil && !errors.Is(err, ErrNoConnection) {
				t.Errorf("journal left: %+v", j)
			}
			if fileExists(swap.StagedPath(h.target)) {
				t.Errorf("left behind %s", filepath.Base(swap.StagedPath(h.target)))
			}
			// A verified download may stay for the next run (a refused
			// code, no updates left): only whole, with its sidecar.
			if fileExists(fetch.DownloadPath(h.target)) && !keptWhole(h.target) {
				t.Errorf("left behind %s, not a whole verified download", filepath.Base(fetch.DownloadPath(h.target)))
			}
		})
	}
}

// holdAll reserves every remaining unit of the harness's code directly.
func holdAll(h *harness) {
	code, _ := api.ParseCode(h.code)
	for i := 0; ; i++ {
		_, _, err := h.inst.Store.Reserve(context.Background(), store.ReserveParams{
			IdempotencyKey: fmt.Sprintf("hold-%d", i),
			Credential:     store.Credential{CodeHash: keyring.CodeHash(h.inst.Keys.CodeSecret, code)},
			Series:         api.SeriesPro, Product: product, FromVersion: "1.0.0", ToVersion: "2.0.0",
			MachineID: "other", Now: time.Now(), TTL: time.Hour,
		})
		if errors.Is(err, store.ErrExhausted) {
			return
		} else if err != nil {
			h.t.Fatal(err)
		}
	}
}

// corruptBlob flips a byte of a published artifact on the server's disk.
func corruptBlob(h *harness, data []byte) {
	sum := sha256.Sum256(data)
	name := hex.EncodeToString(sum[:])
	path := filepath.Join(h.inst.Dir.BlobDir(), name[:2], name)
	b, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// failing answers 503 to requests whose path ends with suffix.
func failing(suffix string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, suffix) {
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
