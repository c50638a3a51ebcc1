package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/ratelimit"
	"github.com/aktual/aktual/server/store"
)

// POST /v1/reports: field reports, each counted once; a bad batch is
// refused whole, with a message naming the report and the field.

const reportsPath = "/v1/reports"

func goodReport(n int) api.FieldReport {
	return api.FieldReport{
		ID: fmt.Sprintf("%032x", n), Product: proApp, Installation: fmt.Sprintf("%032x", 1000+n),
		FromVersion: "1.0.0", ToVersion: "2.0.0", Outcome: api.OutcomeApplied, ExitCode: 0,
		PhasesMS:  api.ReportPhases{Check: 20, Download: 300, Apply: 40},
		Installer: "1.4.0", OS: "linux", Arch: "amd64", At: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func reportsFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixtureWith(t, func(s *server.Server) {
		s.Now = func() time.Time { return time.Date(2031, 1, 2, 4, 0, 0, 0, time.UTC) }
	})
	f.publish(t, proApp, api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, proApp, api.SeriesPro, "2.0.0", "linux", "amd64")
	return f
}

func (f *fixture) stats(t *testing.T) []store.ReleaseStats {
	t.Helper()
	st, err := f.inst.Store.ReleaseStats(t.Context(), proApp)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestReportsCountedOnce(t *testing.T) {
	f := reportsFixture(t)
	batch := api.ReportBatch{Reports: []api.FieldReport{goodReport(1), goodReport(2), goodReport(1)}}
	r := f.post(t, reportsPath, mustJSON(t, batch))
	if r.status != http.StatusAccepted {
		t.Fatalf("answer %v, want 202", r)
	}
	var got api.ReportsAccepted
	if err := api.DecodeStrict(r.body, &got); err != nil || got != (api.ReportsAccepted{Accepted: 2, Duplicates: 1}) {
		t.Fatalf("answer %s (%v), want 2 accepted, 1 duplicate", r.body, err)
	}
	// Sent again (the answer was lost): nothing more is counted.
	r = f.post(t, reportsPath, mustJSON(t, batch))
	if err := api.DecodeStrict(r.body, &got); err != nil || got != (api.ReportsAccepted{Accepted: 0, Duplicates: 3}) {
		t.Fatalf("answer again %s (%v), want 0 accepted, 3 duplicates", r.body, err)
	}
	st := f.stats(t)
	if len(st) != 1 || st[0].Version != "2.0.0" || st[0].Succeeded != 2 || st[0].Installed != 2 {
		t.Errorf("counts %+v, want 2 installations that applied 2.0.0", st)
	}
}

func TestReportsRefused(t *testing.T) {
	f := reportsFixture(t)
	with := func(change func(*api.FieldReport)) string {
		r := goodReport(1)
		change(&r)
		return mustJSON(t, api.ReportBatch{Reports: []api.FieldReport{goodReport(2), r}})
	}
	many := make([]api.FieldReport, api.MaxReportBatch+1)
	for i := range many {
		many[i] = goodReport(i)
	}
	for _, tc := range []struct {
		name, body, says string
	}{
		{"empty batch", `{"reports":[]}`, "reports is empty"},
		{"too many", mustJSON(t, api.ReportBatch{Reports: many}), "51 reports in one request"},
		{"unknown field", `{"reports":[],"x":1}`, "not valid JSON"},
		{"not an object", `[1]`, "must be a JSON object"},
		{"id", with(func(r *api.FieldReport) { r.ID = "ABC" }), "report 2: id must be 32 lowercase hex"},
		{"product", with(func(r *api.FieldReport) { r.Product = "no such/product" }), "product must be"},
		{"installation", with(func(r *api.FieldReport) { r.Installation = "m_machine" }), "installation must be 32"},
		{"from", with(func(r *api.FieldReport) { r.FromVersion = "v1" }), "from_version \"v1\""},
		{"to", with(func(r *api.FieldReport) { r.ToVersion = "" }), "to_version \"\""},
		{"same versions", with(func(r *api.FieldReport) { r.ToVersion = "1.0.0" }), "both 1.0.0"},
		{"unpublished", with(func(r *api.FieldReport) { r.ToVersion = "9.0.0" }), "report 2: version 9.0.0 of ledger is not published"},
		{"unknown product", with(func(r *api.FieldReport) { r.Product = "nothing" }), "not published"},
		{"channel", with(func(r *api.FieldReport) { r.Channel = "be ta" }), "channel must be"},
		{"outcome", with(func(r *api.FieldReport) { r.Outcome = "exploded" }), "outcome \"exploded\""},
		{"exit code", with(func(r *api.FieldReport) { r.ExitCode = 300 }), "exit_code 300"},
		{"cause", with(func(r *api.FieldReport) { r.Cause = "Bad Cause" }), "cause must be"},
		{"long cause", with(func(r *api.FieldReport) { r.Cause = strings.Repeat("a", 65) }), "cause must be"},
		{"phase", with(func(r *api.FieldReport) { r.PhasesMS.Download = -1 }), "phases_ms"},
		{"installer", with(func(r *api.FieldReport) { r.Installer = "" }), "installer must be"},
		{"os", with(func(r *api.FieldReport) { r.OS = "" }), "os and arch are required"},
		{"time", with(func(r *api.FieldReport) { r.At = time.Time{} }), "is not a time the report could have been made"},
		{"future", with(func(r *api.FieldReport) { r.At = r.At.AddDate(3, 0, 0) }), "is not a time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := wantError(t, f.post(t, reportsPath, tc.body), http.StatusBadRequest, api.CodeBadRequest)
			if !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q, want it to say %q", e.Message, tc.says)
			}
		})
	}
	if st := f.stats(t); len(st) != 0 {
		t.Errorf("refused batches were counted: %+v", st)
	}
	// In Bulgarian too.
	r, err := f.send(t.Context(), "POST", reportsPath, strings.NewReader(with(func(r *api.FieldReport) { r.Outcome = "x" })),
		"Accept-Language", "bg")
	if err != nil {
		t.Fatal(err)
	}
	if e := wantError(t, r, http.StatusBadRequest, api.CodeBadRequest); !strings.Contains(e.Message, "доклад 2") {
		t.Errorf("Bulgarian message %q", e.Message)
	}
}

func TestReportsBodyBounded(t *testing.T) {
	f := reportsFixture(t)
	body := `{"reports":[` + strings.Repeat(" ", api.MaxReportBody) + `]}`
	wantError(t, f.post(t, reportsPath, body), http.StatusRequestEntityTooLarge, api.CodeBadRequest)
}

// TestReportsGarbageNotBlocked: bad batches do not count as failed
// attempts of the address: an installer's mistake must not lock an office
// out of its updates.
func TestReportsGarbageNotBlocked(t *testing.T) {
	f := reportsFixture(t)
	for range ratelimit.DefaultAllowance + 2 {
		wantError(t, f.post(t, reportsPath, `{"reports":[]}`), http.StatusBadRequest, api.CodeBadRequest)
	}
	if r := f.post(t, reportsPath, mustJSON(t, api.ReportBatch{Reports: []api.FieldReport{goodReport(1)}})); r.status != http.StatusAccepted {
		t.Errorf("a good batch after bad ones: %v, want 202", r)
	}
}

// TestReportsInMetrics: /metrics shows the counts of the reports, and the
// batches by outcome.
func TestReportsInMetrics(t *testing.T) {
	f := reportsFixture(t)
	failed := goodReport(2)
	failed.Outcome, failed.Cause, failed.ExitCode = api.OutcomeFailed, "credential_rejected", 4
	odd := goodReport(3)
	odd.Outcome, odd.Cause = api.OutcomeFailed, "made_up_cause"
	unpublished := goodReport(4)
	unpublished.FromVersion = "0.9.0" // installed from elsewhere: no label
	if r := f.post(t, reportsPath, mustJSON(t, api.ReportBatch{Reports: []api.FieldReport{goodReport(1), failed, odd, unpublished}})); r.status != http.StatusAccepted {
		t.Fatalf("answer %v", r)
	}
	body := string(f.get(t, "/metrics").body)
	for _, want := range []string{
		`aktuald_field_installs{channel="",outcome="offered",product="ledger",version="2.0.0"} 4`,
		`aktuald_field_installs{channel="",outcome="succeeded",product="ledger",version="2.0.0"} 2`,
		`aktuald_field_installs{channel="",outcome="failed",product="ledger",version="2.0.0"} 2`,
		`aktuald_field_failures{cause="credential_rejected",channel="",product="ledger",version="2.0.0"} 1`,
		`aktuald_field_failures{cause="other",channel="",product="ledger",version="2.0.0"} 1`,
		`aktuald_field_installations{product="ledger",version="2.0.0"} 2`,
		`aktuald_field_installations{product="ledger",version="1.0.0"} 2`,
		`aktuald_release_rollout_percent{product="ledger",state="live",version="2.0.0"} 100`,
		`aktuald_field_report_batches_total{outcome="answered"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `version="0.9.0"`) {
		t.Error("/metrics names a version this server never published")
	}
}
