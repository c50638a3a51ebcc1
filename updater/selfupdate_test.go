//go:build !windows

package updater

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/swap"
)

// selfScript is a stand-in aktual: a script its health check (aktual
// version) can run, exiting with code.
func selfScript(version string, code int) []byte {
	return fmt.Appendf(nil, "#!/bin/sh\necho aktual %s\nexit %d\n", version, code)
}

// selfHarness is the harness's real server, publishing aktual 2.0.0 too,
// and a stand-in aktual 1.0.0 (not published: its version is the one
// compiled in) at exe. It records every request's path.
type selfHarness struct {
	*harness
	exe    string
	v1, v2 []byte
	mu     sync.Mutex
	paths  []string
}

func newSelfHarness(t *testing.T) *selfHarness {
	h := &selfHarness{harness: newHarness(t, 2), v1: selfScript("1.0.0", 0), v2: selfScript("2.0.0", 0)}
	h.prod = SelfProduct
	h.publish(SelfProduct, api.SeriesPro, "2.0.0", h.v2)
	h.exe = h.target[:len(h.target)-len("ledger")] + "aktual"
	if err := os.WriteFile(h.exe, h.v1, 0o755); err != nil {
		t.Fatal(err)
	}
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.mu.Lock()
			h.paths = append(h.paths, r.Method+" "+r.URL.Path)
			h.mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	return h
}

func (h *selfHarness) selfUpdate(version string) (*Result, error) {
	return h.u.SelfUpdate(h.t.Context(), SelfRequest{Executable: h.exe, Version: version})
}

// expectSelf checks the executable's bytes, that nothing was reserved or
// reported and the code's counts are untouched, and that no journal or
// swap debris is left.
func (h *selfHarness) expectSelf(want []byte) {
	h.t.Helper()
	got, err := os.ReadFile(h.exe)
	if err != nil {
		h.t.Fatalf("aktual: %v", err)
	}
	if !bytes.Equal(got, want) {
		h.t.Errorf("aktual holds %q, want %q", got, want)
	}
	h.mu.Lock()
	for _, p := range h.paths {
		if strings.Contains(p, "/reservations") {
			h.t.Errorf("self-update asked the server %s: aktual is free", p)
		}
	}
	h.mu.Unlock()
	if st := h.counts(); st.Remaining != 2 || st.Held != 0 || st.Consumed != 0 {
		h.t.Errorf("counts remaining/held/consumed = %d/%d/%d, want 2/0/0 untouched", st.Remaining, st.Held, st.Consumed)
	}
	if j, err := h.u.loadJournal(h.exe); j != nil || err != nil {
		h.t.Errorf("journal left: %+v, %v", j, err)
	}
	for _, p := range []string{swap.StagedPath(h.exe), swap.OldPath(h.exe)} {
		if fileExists(p) {
			h.t.Errorf("left behind %s", p)
		}
	}
}

func TestSelfUpdateIsFree(t *testing.T) {
	h := newSelfHarness(t)
	res, err := h.selfUpdate("1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusUpdated || res.Product != SelfProduct || res.From != "1.0.0" || res.To != "2.0.0" ||
		res.Remaining != nil || res.Reservation != "" || res.Target != h.exe {
		t.Fatalf("result = %+v", res)
	}
	h.expectSelf(h.v2)
	var phases []string
	for _, e := range h.events {
		if e.Event == EventPhase {
			phases = append(phases, e.Phase)
		}
	}
	if got := strings.Join(phases, ","); got != "check,download,verify,apply,health" {
		t.Errorf("phases %s; want no reserve and no complete", got)
	}
	if rec, err := h.u.state().InstallRecord(h.exe); err != nil || rec.Product != SelfProduct || rec.Version != "2.0.0" {
		t.Errorf("install record %+v, %v", rec, err)
	}

	// Now the catalogue knows it, whatever was compiled in.
	plan, err := h.u.SelfCheck(t.Context(), SelfRequest{Executable: h.exe, Version: "1.0.0"})
	if err != nil || !plan.UpToDate || plan.From != "2.0.0" || plan.FromSource != SourceCatalogue {
		t.Fatalf("check after = %+v, %v", plan, err)
	}
	res, err = h.selfUpdate("1.0.0")
	if err != nil || res.Status != StatusUpToDate {
		t.Fatalf("again = %+v, %v", res, err)
	}
	h.expectSelf(h.v2)
}

// A normal product's update is never free: the same engine reserves and
// reports it.
func TestUpdateOfAProductStillReserves(t *testing.T) {
	h := newSelfHarness(t)
	h.prod = product
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.harness.v2, 1, 0, 1)
}

// aktual is never updated as a paid product: update refuses it before
// anything else, pointing to self-update.
func TestUpdateRefusesAktualItself(t *testing.T) {
	h := newSelfHarness(t)
	h.target = h.exe
	_, err := h.update(h.code)
	wantKind(t, err, ErrUsage)
	if !strings.Contains(err.Error(), "aktual self-update") {
		t.Errorf("error = %v", err)
	}
	h.expectSelf(h.v1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.paths) != 0 {
		t.Errorf("asked the server %v", h.paths)
	}
}

func TestSelfCheckWithoutCredential(t *testing.T) {
	h := newSelfHarness(t)
	plan, err := h.u.SelfCheck(t.Context(), SelfRequest{Executable: h.exe, Version: "1.0.0"})
	if err != nil || plan.UpToDate || plan.From != "1.0.0" || plan.FromSource != SourceFlag || plan.Latest.Version != "2.0.0" {
		t.Fatalf("plan = %+v, %v", plan, err)
	}
	// Newer than anything published: up to date, never a downgrade.
	plan, err = h.u.SelfCheck(t.Context(), SelfRequest{Executable: h.exe, Version: "3.0.0"})
	if err != nil || !plan.UpToDate || !plan.Newer {
		t.Fatalf("plan = %+v, %v", plan, err)
	}
	res, err := h.selfUpdate("3.0.0")
	if err != nil || res.Status != StatusUpToDate {
		t.Fatalf("update = %+v, %v", res, err)
	}
	h.expectSelf(h.v1)
}

// A development build ("dev") has no version: only the catalogue can say
// which release it is.
func TestSelfUpdateDevBuild(t *testing.T) {
	h := newSelfHarness(t)
	_, err := h.selfUpdate("dev")
	wantKind(t, err, ErrUsage)
	if !strings.Contains(err.Error(), "development build") || strings.Contains(err.Error(), "--from-version") {
		t.Fatalf("error = %v; want self-update's words (check.go's message changed?)", err)
	}
	h.expectSelf(h.v1)
	h.publish(SelfProduct, api.SeriesPro, "1.0.0", h.v1)
	if res, err := h.selfUpdate("dev"); err != nil || res.From != "1.0.0" || res.To != "2.0.0" {
		t.Fatalf("a known dev build = %+v, %v", res, err)
	}
	h.expectSelf(h.v2)
}

// Even a downgrade staff published to replace a withdrawn aktual is
// refused, before anything is downloaded.
func TestSelfUpdateRefusesDowngrade(t *testing.T) {
	h := newSelfHarness(t)
	if err := os.WriteFile(h.exe, h.v2, 0o755); err != nil {
		t.Fatal(err)
	}
	v15 := selfScript("1.5.0", 0)
	if _, err := h.admin.Publish(t.Context(), admin.PublishParams{Product: SelfProduct, Series: api.SeriesPro, Version: "1.5.0",
		OS: "linux", Arch: "amd64", File: bytes.NewReader(v15), DowngradeFrom: []string{"2.0.0"}}); err != nil {
		t.Fatal(err)
	}
	_, err := h.u.SelfCheck(t.Context(), SelfRequest{Executable: h.exe, Version: "2.0.0"})
	wantKind(t, err, ErrVerification)
	_, err = h.selfUpdate("2.0.0")
	wantKind(t, err, ErrVerification)
	if !strings.Contains(err.Error(), "never updates itself to an older version") {
		t.Errorf("error = %v", err)
	}
	h.expectSelf(h.v2)
	if fileExists(fetch.DownloadPath(h.exe)) {
		t.Error("the refused downgrade was downloaded")
	}
}

// Every failure leaves the running aktual as it was and uses nothing.
func TestSelfUpdateFailuresChangeNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *selfHarness)
		kind  error
		msg   string
	}{
		{"tampered artifact", func(h *selfHarness) { corruptBlob(h.harness, h.v2) }, ErrVerification, "sha256"},
		{"new aktual does not start", func(h *selfHarness) {
			h.publish(SelfProduct, api.SeriesPro, "2.1.0", selfScript("2.1.0", 3))
		}, ErrApply, "failed its health check"},
		{"server unreachable", func(h *selfHarness) {
			dead := httptest.NewServer(http.NotFoundHandler())
			dead.Close()
			h.u.Server = dead.URL
		}, ErrNoConnection, ""},
		{"aktual not published", func(h *selfHarness) {
			h.u.OS = "plan9"
		}, ErrUsage, "publishes no aktual for plan9/amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSelfHarness(t)
			tt.setup(h)
			_, err := h.selfUpdate("1.0.0")
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %v, want %q", err, tt.msg)
			}
			h.expectSelf(h.v1)
			if fi, err := os.Stat(h.exe); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("aktual: %v, %v", fi, err)
			}
		})
	}
}

// A crash at any step of a self-update leaves a journal that recovery
// finishes or undoes without the server, and that never reads as a held
// paid update.
func TestSelfUpdateCrashRecovery(t *testing.T) {
	type files struct{ exe, staged, old []byte } // nil: absent
	tests := []struct {
		name    string
		before  func(h *selfHarness) files
		action  string
		want    func(h *selfHarness) []byte
		applied bool
	}{
		{"staged, not swapped", func(h *selfHarness) files { return files{exe: h.v1, staged: h.v2} },
			ActionDropped, func(h *selfHarness) []byte { return h.v1 }, false},
		{"old aside by link, not swapped", func(h *selfHarness) files { return files{exe: h.v1, staged: h.v2, old: h.v1} },
			ActionDropped, func(h *selfHarness) []byte { return h.v1 }, false},
		{"swapped, health check not finished", func(h *selfHarness) files { return files{exe: h.v2, old: h.v1} },
			ActionInstalled, func(h *selfHarness) []byte { return h.v2 }, true},
		{"between selfupdate's renames (Windows)", func(h *selfHarness) files { return files{staged: h.v2, old: h.v1} },
			ActionInstalled, func(h *selfHarness) []byte { return h.v2 }, true},
	}
	write := func(t *testing.T, path string, b []byte) {
		os.Remove(path)
		if b != nil {
			if err := os.WriteFile(path, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSelfHarness(t)
			f := tt.before(h)
			write(t, h.exe, f.exe)
			write(t, swap.StagedPath(h.exe), f.staged)
			write(t, swap.OldPath(h.exe), f.old)
			// The staged file keeps its identity through the swap.
			staged := swap.StagedPath(h.exe)
			if f.staged == nil {
				staged = h.exe
			}
			id, err := swap.FileID(staged)
			if err != nil {
				t.Fatal(err)
			}
			j := &Journal{Target: h.exe, Product: SelfProduct, Server: h.u.Server, From: "1.0.0", To: "2.0.0",
				OldSHA256: sum256(h.v1), NewSHA256: sum256(h.v2), HealthCheck: selfHealthCheck, StagedID: id,
				Free: true, State: StateStaged}
			if err := h.u.save(j); err != nil {
				t.Fatal(err)
			}
			st, err := h.u.ReadStatus()
			if err != nil || len(st.Pending) != 1 || !st.Pending[0].Free || st.Pending[0].State == StateReserved {
				t.Fatalf("status = %+v, %v; want one free update being installed", st, err)
			}
			recs, err := h.u.Recover(t.Context())
			if err != nil || len(recs) != 1 || recs[0].Action != tt.action || recs[0].Err != nil {
				t.Fatalf("recover = %+v, %v", recs, err)
			}
			want := tt.want(h)
			if !tt.applied {
				os.Remove(swap.OldPath(h.exe)) // a link recovery leaves; the next swap replaces it
			}
			h.expectSelf(want)
			if st, _ := h.u.ReadStatus(); len(st.Pending) != 0 {
				t.Errorf("still pending: %+v", st.Pending)
			}
		})
	}
}

// swapSelf never leaves the path empty: the old file is linked aside, then
// the new one renamed over it.
func TestSwapSelf(t *testing.T) {
	dir := t.TempDir()
	target := dir + "/aktual"
	os.WriteFile(target, []byte("old"), 0o755)
	os.WriteFile(swap.StagedPath(target), []byte("new"), 0o755)
	os.WriteFile(swap.OldPath(target), []byte("older debris"), 0o755)
	before, _ := swap.FileID(target)
	if rb, err := swap.CommitSelf(target, sum256([]byte("new"))); rb || err != nil {
		t.Fatalf("swapSelf = %v, %v", rb, err)
	}
	for path, want := range map[string]string{target: "new", swap.OldPath(target): "old"} {
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", path, b, err, want)
		}
	}
	if id, _ := swap.FileID(swap.OldPath(target)); id != before {
		t.Error("the old file was copied, not kept (linked) aside")
	}
	if fileExists(swap.StagedPath(target)) {
		t.Error("staged file left")
	}
	// The rename fails (nothing staged): the target stays, no link left.
	if _, err := swap.CommitSelf(target, sum256([]byte("new"))); err == nil {
		t.Fatal("swapSelf without a staged file succeeded")
	}
	if b, _ := os.ReadFile(target); string(b) != "new" || fileExists(swap.OldPath(target)) {
		t.Errorf("after a failed swap: target %q, old left %v", b, fileExists(swap.OldPath(target)))
	}
}
