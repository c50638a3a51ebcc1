package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Field reports (store.Reports): each report counted once, and the counts
// per release, channel and installation as server/store/reports.go says.

// fieldReport is a report of installation inst's attempt from → to.
func fieldReport(id, inst, from, to, outcome, cause string, at time.Time) api.FieldReport {
	return api.FieldReport{
		ID: fmt.Sprintf("%032x", id), Product: product, Installation: fmt.Sprintf("%032x", inst),
		FromVersion: from, ToVersion: to, Outcome: outcome, Cause: cause, ExitCode: 0,
		PhasesMS: api.ReportPhases{Check: 12, Download: 340}, Installer: "1.0.0", OS: "linux", Arch: "amd64", At: at,
	}
}

func addReports(t *testing.T, s store.Store, now time.Time, want int, rs ...api.FieldReport) {
	t.Helper()
	got, err := s.AddReports(t.Context(), rs, now)
	if err != nil || got != want {
		t.Fatalf("AddReports(%d reports) = %d, %v; want %d new", len(rs), got, err, want)
	}
}

func testFieldReports(t *testing.T, s store.Store) {
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	addReports(t, s, at(0), 4,
		fieldReport("1", "a", "1.0.0", "2.0.0", api.OutcomeChecked, "", at(0)),
		fieldReport("2", "a", "1.0.0", "2.0.0", api.OutcomeApplied, "", at(1)),
		fieldReport("3", "b", "1.0.0", "2.0.0", api.OutcomeFailed, "credential_rejected", at(1)),
		fieldReport("4", "b", "1.0.0", "2.0.0", api.OutcomeFailed, "credential_rejected", at(2)),
	)
	// A resend and a new one in one batch: the resend counts once.
	addReports(t, s, at(3), 3,
		fieldReport("2", "a", "1.0.0", "2.0.0", api.OutcomeApplied, "", at(1)),
		fieldReport("5", "c", "1.0.0", "2.0.0", api.OutcomeRolledBack, "apply_failed", at(3)),
		fieldReport("6", "d", "1.0.0", "2.0.0", api.OutcomeFailed, "apply_failed", at(3)),
		fieldReport("7", "d", "1.0.0", "2.0.0", api.OutcomeApplied, "", at(4)),
	)
	// An older report arriving late (kept by its installer) does not
	// move d back to 1.0.0; a beta channel is counted apart.
	beta := fieldReport("8", "e", "2.0.0", "2.1.0-rc.1", api.OutcomeApplied, "", at(5))
	beta.Channel = "beta"
	addReports(t, s, at(5), 2,
		fieldReport("9", "d", "1.0.0", "2.0.0", api.OutcomeChecked, "", at(0)),
		beta,
	)
	other := fieldReport("10", "a", "3.0.0", "4.0.0", api.OutcomeApplied, "", at(5))
	other.Product = "other-product"
	addReports(t, s, at(5), 1, other)

	got, err := s.ReleaseStats(t.Context(), product)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ReleaseStats{
		{Version: "2.1.0-rc.1", Channel: "beta", Offered: 1, Started: 1, Succeeded: 1, FailedBy: map[string]int{}, Installed: 1},
		{Version: "2.0.0", Channel: "", Offered: 4, Started: 4, Succeeded: 2, RolledBack: 1, Failed: 2,
			FailedBy: map[string]int{"credential_rejected": 1, "apply_failed": 1}, Installed: 2},
		{Version: "1.0.0", Channel: "", FailedBy: map[string]int{}, Installed: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReleaseStats:\n got %+v\nwant %+v", got, want)
	}
	if got, err := s.ReleaseStats(t.Context(), "never-reported"); err != nil || len(got) != 0 {
		t.Errorf("ReleaseStats(never reported) = %+v, %v; want none", got, err)
	}
	products, err := s.ReportedProducts(t.Context())
	if err != nil || !reflect.DeepEqual(products, []string{"other-product", product}) {
		t.Errorf("ReportedProducts = %v, %v", products, err)
	}
}

func testFirstAttempts(t *testing.T, s store.Store) {
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	// Received in this order: a only checked (no attempt), then b fails,
	// c rolls back, d fails then succeeds, e succeeds.
	steps := []api.FieldReport{
		fieldReport("1", "a", "1.0.0", "2.0.0", api.OutcomeChecked, "", at(0)),
		fieldReport("2", "b", "1.0.0", "2.0.0", api.OutcomeFailed, "apply_failed", at(1)),
		fieldReport("3", "c", "1.0.0", "2.0.0", api.OutcomeRolledBack, "apply_failed", at(2)),
		fieldReport("4", "d", "1.0.0", "2.0.0", api.OutcomeFailed, "in_use", at(3)),
		fieldReport("5", "e", "1.0.0", "2.0.0", api.OutcomeApplied, "", at(4)),
		fieldReport("6", "d", "1.0.0", "2.0.0", api.OutcomeApplied, "", at(5)),
		fieldReport("7", "a", "1.0.0", "2.0.0", api.OutcomeFailed, "verification_failed", at(6)),
	}
	for i, r := range steps {
		addReports(t, s, at(i), 1, r)
	}
	for _, tc := range []struct {
		n    int
		want store.AttemptCounts
	}{
		{1, store.AttemptCounts{Attempted: 1, Failed: 1}},
		{2, store.AttemptCounts{Attempted: 2, Failed: 1, RolledBack: 1}},
		{4, store.AttemptCounts{Attempted: 4, Failed: 1, RolledBack: 1}}, // d failed, then applied
		{10, store.AttemptCounts{Attempted: 5, Failed: 2, RolledBack: 1}},
	} {
		got, err := s.FirstAttempts(t.Context(), product, "2.0.0", tc.n)
		if err != nil || got != tc.want {
			t.Errorf("FirstAttempts(%d) = %+v, %v; want %+v", tc.n, got, err, tc.want)
		}
	}
	if got, err := s.FirstAttempts(t.Context(), product, "9.9.9", 5); err != nil || got != (store.AttemptCounts{}) {
		t.Errorf("FirstAttempts(unknown version) = %+v, %v; want zero", got, err)
	}
	if _, err := s.FirstAttempts(t.Context(), product, "2.0.0", 0); err == nil {
		t.Error("FirstAttempts(n = 0) gave no error")
	}
}
