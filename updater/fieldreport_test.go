package updater

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// Field reports are best-effort: an old server, a cut line or a slow
// server never fails or holds up a run, and what could not be sent is kept
// (bounded) for the next run.

func (h *harness) report(n int, outcome string) PendingReport {
	h.t.Helper()
	inst, err := h.u.InstallationID(product, filepath.Join(h.t.TempDir(), fmt.Sprint("app", n)))
	if err != nil {
		h.t.Fatal(err)
	}
	id, err := NewReportID()
	if err != nil {
		h.t.Fatal(err)
	}
	return PendingReport{Server: h.ts.URL, Report: api.FieldReport{
		ID: id, Product: product, Installation: inst, FromVersion: "1.0.0", ToVersion: "2.0.0",
		Outcome: outcome, Installer: "test", OS: "linux", Arch: "amd64", At: time.Now().UTC(),
	}}
}

func (h *harness) keptReports() []PendingReport { return h.u.keptReports() }

func (h *harness) succeeded() int {
	h.t.Helper()
	st, err := h.inst.Store.ReleaseStats(h.t.Context(), product)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, s := range st {
		if s.Version == "2.0.0" {
			return s.Succeeded
		}
	}
	return 0
}

func TestReportsKeptWhileTheLineIsDown(t *testing.T) {
	h := newHarness(t, 1)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there now
	r1 := h.report(1, api.OutcomeApplied)
	r1.Server = down.URL
	h.u.SendReports(t.Context(), []PendingReport{r1})
	if k := h.keptReports(); len(k) != 1 || k[0].Report.ID != r1.Report.ID {
		t.Fatalf("kept %+v, want the report not sent", k)
	}
	// The next run, the line is back: the kept report goes with its own.
	r1.Server = h.ts.URL
	h.u.keepReports([]PendingReport{r1})
	h.u.SendReports(t.Context(), []PendingReport{h.report(2, api.OutcomeApplied)})
	if k := h.keptReports(); len(k) != 0 {
		t.Errorf("kept %d reports after they were sent", len(k))
	}
	if n := h.succeeded(); n != 2 {
		t.Errorf("the server counts %d installations that applied 2.0.0, want 2", n)
	}
	// Sent again (the answer was lost): counted once.
	h.u.SendReports(t.Context(), []PendingReport{r1})
	if n := h.succeeded(); n != 2 {
		t.Errorf("a report sent twice counted twice: %d", n)
	}
}

func TestReportsToAnOldServer(t *testing.T) {
	h := newHarness(t, 1)
	asked := 0
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/reports" {
				asked++
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"error":{"code":"not_found","message":"no such endpoint"}}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	var batch []PendingReport
	for i := range api.MaxReportBatch + 5 {
		batch = append(batch, h.report(i, api.OutcomeApplied))
	}
	h.u.SendReports(t.Context(), batch)
	if asked != 1 {
		t.Errorf("the old server was asked %d times, want once", asked)
	}
	if k := h.keptReports(); len(k) != 0 {
		t.Errorf("kept %d reports for a server that takes none", len(k))
	}
}

func TestReportsDoNotWaitForASlowServer(t *testing.T) {
	h := newHarness(t, 1)
	never := make(chan struct{})
	t.Cleanup(func() { close(never) }) // before the server closes, which waits for its handlers
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/reports" {
				<-never
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	start := time.Now()
	h.u.SendReports(t.Context(), []PendingReport{h.report(1, api.OutcomeFailed)})
	if took := time.Since(start); took > ReportTimeout+time.Second {
		t.Errorf("sending took %v, want at most about %v", took, ReportTimeout)
	}
	if k := h.keptReports(); len(k) != 1 {
		t.Errorf("kept %d reports, want the one not answered", len(k))
	}
}

func TestReportsKeptBounded(t *testing.T) {
	h := newHarness(t, 1)
	h.ts.Close() // the line is down for good
	var all []PendingReport
	for i := range MaxKeptReports + 20 {
		all = append(all, h.report(i, api.OutcomeChecked))
	}
	h.u.SendReports(t.Context(), all)
	k := h.keptReports()
	if len(k) != MaxKeptReports || k[0].Report.ID != all[20].Report.ID {
		t.Errorf("kept %d reports, want the newest %d", len(k), MaxKeptReports)
	}
	// A damaged file is dropped, not a failure.
	if err := os.WriteFile(filepath.Join(h.u.StateDir, reportsFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k := h.keptReports(); len(k) != 0 {
		t.Errorf("a damaged file gave %d reports", len(k))
	}
}

func TestInstallationID(t *testing.T) {
	h := newHarness(t, 1)
	a, err := h.u.InstallationID(product, "/opt/ledger/ledger")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.u.InstallationID(product, "/opt/ledger2/ledger")
	c, _ := h.u.InstallationID("other", "/opt/ledger/ledger")
	again, _ := h.u.InstallationID(product, "/opt/ledger/ledger")
	if len(a) != api.InstallationIDLen || a == b || a == c || a != again {
		t.Errorf("installation IDs %q %q %q %q: want 32 hex digits, one per machine, product and path", a, b, c, again)
	}
}
