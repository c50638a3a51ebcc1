package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// The automatic brake: a release whose first installations fail beyond
// the vendor's threshold halts itself, says so in the audit log, and is
// no longer offered or reserved; one that stays under it keeps going.
func TestAutomaticBrake(t *testing.T) {
	f := reportsFixture(t)
	after, rate := 4, 25
	if _, err := f.inst.Store.ChangeReleaseControl(t.Context(), proApp, "2.0.0", "release.publish", store.Actor{Name: "local:ana"},
		func(c *store.ReleaseControl) error { c.BrakeAfter, c.BrakeRate = after, rate; return nil }); err != nil {
		t.Fatal(err)
	}
	send := func(reps ...api.FieldReport) {
		t.Helper()
		if r := f.post(t, reportsPath, mustJSON(t, api.ReportBatch{Reports: reps})); r.status != http.StatusAccepted {
			t.Fatalf("reports: %v", r)
		}
	}
	state := func() string {
		t.Helper()
		cs, err := f.inst.Store.ReleaseControls(t.Context(), proApp)
		if err != nil {
			t.Fatal(err)
		}
		return store.ControlOf(cs, proApp, "2.0.0").State
	}
	failed := func(n int, outcome string) api.FieldReport {
		r := goodReport(n)
		r.Outcome, r.ExitCode, r.Cause = outcome, 7, "apply_failed"
		return r
	}
	// One of four failed: 25%, not over it. Checks are not attempts.
	checked := goodReport(9)
	checked.Outcome, checked.ExitCode = api.OutcomeChecked, 10
	send(goodReport(1), failed(2, api.OutcomeFailed), checked)
	if s := state(); s != store.ControlLive {
		t.Fatalf("after 1 failure: %s", s)
	}
	if _, rel := f.latest(t, proApp, "os=linux&arch=amd64&proto=2"); rel.Version != "2.0.0" {
		t.Fatalf("offered %s before the brake", rel.Version)
	}
	// A rollback makes two of the first four: over 25% whatever the last
	// one does. The release halts at once.
	send(failed(3, api.OutcomeRolledBack))
	if s := state(); s != store.ControlHalted {
		t.Fatalf("after a failure and a rollback: %s, want halted", s)
	}
	events, _, err := f.inst.Store.Events(t.Context(), store.AuditQuery{Actor: store.ActorBrake})
	if err != nil || len(events) != 1 || events[0].Action != "release.brake" ||
		!strings.Contains(events[0].Reason, "2 of the first 4 installations that tried it failed (1) or were rolled back (1), over 25%") {
		t.Fatalf("audit events %+v %v", events, err)
	}
	if _, rel := f.latest(t, proApp, "os=linux&arch=amd64&proto=2"); rel.Version != "1.0.0" {
		t.Errorf("offered %s after the brake", rel.Version)
	}
	code := f.activate(t, "alice", 1)
	wantError(t, f.reserve(t, reserveRequest(code, proApp, "key-1")), http.StatusConflict, api.CodeHalted)
	// More reports change nothing (no second halt, no event).
	send(failed(4, api.OutcomeFailed), goodReport(5))
	if events, _, _ := f.inst.Store.Events(t.Context(), store.AuditQuery{Actor: store.ActorBrake}); len(events) != 1 {
		t.Errorf("%d brake events, want 1", len(events))
	}
	// Staff resume it: the brake is disarmed, so the next report does not
	// pull it again.
	ctl, err := f.admin.Resume(t.Context(), staffCaller, proApp, "2.0.0", "the failures were one office's printer")
	if err != nil || ctl.BrakeAfter != 0 || ctl.State != store.ControlLive {
		t.Fatalf("resumed: %+v %v", ctl, err)
	}
	send(failed(6, api.OutcomeFailed))
	if s := state(); s != store.ControlLive {
		t.Errorf("after staff resumed it: %s", s)
	}
}

func TestBrakeRule(t *testing.T) {
	c := store.DefaultControl("app", "2.0.0")
	c.BrakeAfter, c.BrakeRate = 50, 10
	for _, tc := range []struct {
		a    store.AttemptCounts
		want bool
	}{
		{store.AttemptCounts{Attempted: 50, Failed: 5}, false},               // exactly 10%
		{store.AttemptCounts{Attempted: 50, Failed: 5, RolledBack: 1}, true}, // 12%
		{store.AttemptCounts{Attempted: 7, Failed: 6}, true},                 // certain before all 50 tried
		{store.AttemptCounts{Attempted: 10, Failed: 5}, false},               // 5 of 50 is not over 10%
	} {
		if got, _ := c.Brakes(tc.a); got != tc.want {
			t.Errorf("%+v: brakes %v, want %v", tc.a, got, tc.want)
		}
	}
	off := store.DefaultControl("app", "2.0.0")
	if got, _ := off.Brakes(store.AttemptCounts{Attempted: 10, Failed: 10}); got {
		t.Error("a release without a brake halted")
	}
}
