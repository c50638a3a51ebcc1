package adminapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/adminapi"
	"github.com/aktual/aktual/server/store"
)

// control is how ledger's version is offered now, read past the API.
func (w *world) control(version string) admin.Control {
	w.t.Helper()
	c, err := w.admin.ReleaseControl(w.t.Context(), admin.Local("test"), "ledger", version)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// TestReleaseControlRoutes: an admin's and an office's token roll out,
// halt, resume and withdraw; each change is in the audit log with its
// reason and the token as actor; the status lists what changed.
func TestReleaseControlRoutes(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	base := "/admin/v1/releases/ledger/2.0.0/"
	for _, c := range []struct {
		token, route string
		body         map[string]any
		state        string
		percent      int
	}{
		{"boss", "rollout", map[string]any{"percent": 30, "reason": "first customers"}, store.ControlLive, 30},
		{"maria", "halt", map[string]any{"reason": "crashes with old printers"}, store.ControlHalted, 30},
		{"boss", "resume", map[string]any{"reason": "printer fix in the notes"}, store.ControlLive, 30},
		{"maria", "rollout", map[string]any{"percent": 100, "reason": "everyone"}, store.ControlLive, 100},
	} {
		a := w.do(0, w.tokens[c.token], "POST", base+c.route, c.body)
		var v admin.ControlView
		a.decode(t, &v)
		if a.status != http.StatusOK || v.State != c.state || v.Percent != c.percent || v.Reason != c.body["reason"] ||
			v.ChangedBy != "token:test@"+c.token || v.Product != "ledger" || v.Version != "2.0.0" {
			t.Fatalf("%s by %s: %d %s", c.route, c.token, a.status, a.body)
		}
		if got := w.control("2.0.0"); got.State != c.state || got.Percent != c.percent {
			t.Fatalf("%s: the stored control is %s %d%%", c.route, got.State, got.Percent)
		}
		events, err := w.admin.Events(t.Context(), admin.Local("test"), store.AuditQuery{Actor: "token:test@" + c.token, Limit: 1})
		if err != nil || len(events.Events) != 1 || events.Events[0].Action != "release."+c.route || events.Events[0].Reason != c.body["reason"] {
			t.Fatalf("%s: the audit log's newest event of %s: %+v %v", c.route, c.token, events, err)
		}
	}
	a := w.do(0, w.tokens["help"], "GET", "/admin/v1/releases/ledger/status?limit=1", nil)
	var page admin.ReleaseStatusPage
	a.decode(t, &page)
	if a.status != http.StatusOK || page.Product != "ledger" || len(page.Releases) != 1 || page.Next != 1 ||
		page.Releases[0].Version != "2.0.0" || page.Releases[0].Rollout != 100 || page.Releases[0].ChangedBy != "token:test@maria" {
		t.Fatalf("status, first page: %d %s", a.status, a.body)
	}
	a = w.do(0, w.tokens["help"], "GET", "/admin/v1/releases/ledger/status?offset=1", nil)
	a.decode(t, &page)
	if a.status != http.StatusOK || len(page.Releases) != 1 || page.Next != 0 || page.Releases[0].Version != "1.0.0" {
		t.Fatalf("status, last page: %d %s", a.status, a.body)
	}

	a = w.do(0, w.tokens["boss"], "POST", base+"yank", map[string]any{"reason": "corrupts the stock ledger"})
	var y admin.YankView
	a.decode(t, &y)
	want := []admin.YankDowngrade{{OS: "linux", Arch: "amd64", Version: "1.0.0"}}
	if a.status != http.StatusOK || y.State != store.ControlYanked || len(y.Downgrades) != 1 || y.Downgrades[0] != want[0] {
		t.Fatalf("yank: %d %s", a.status, a.body)
	}
	// Withdrawn for good: nothing brings it back.
	for _, route := range []string{"resume", "rollout", "halt"} {
		if a := w.do(0, w.tokens["boss"], "POST", base+route, validBody(adminapi.Route{Path: base + route})); a.status != http.StatusBadRequest {
			t.Errorf("%s after a yank: %d %s", route, a.status, a.body)
		}
	}
	if got := w.control("2.0.0"); got.State != store.ControlYanked {
		t.Errorf("after trying to undo the yank: %s", got.State)
	}
}

// TestReleaseControlRefusals: support and distributors may look but not
// change (403, nothing changes); an unknown release is 404; a change
// without its reason or with a percent out of range is 400, in the
// reader's language.
func TestReleaseControlRefusals(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	base := "/admin/v1/releases/ledger/2.0.0/"
	full := map[string]any{"percent": 10, "reason": "why not"}
	reason := map[string]any{"reason": "why not"}
	for _, token := range []string{"help", "plovdiv", "plovdiv-support"} {
		for _, route := range []string{"rollout", "halt", "resume", "yank"} {
			body := reason
			if route == "rollout" {
				body = full
			}
			if a := w.do(0, w.tokens[token], "POST", base+route, body); a.status != http.StatusForbidden || a.code() != "forbidden" {
				t.Errorf("%s by %s: %d %s, want 403", route, token, a.status, a.body)
			}
		}
		if a := w.do(0, w.tokens[token], "GET", "/admin/v1/releases/ledger/status", nil); a.status != http.StatusOK {
			t.Errorf("status for %s: %d %s", token, a.status, a.body)
		}
	}
	if got := w.control("2.0.0"); got.State != store.ControlLive || got.Percent != 100 || got.ChangedBy != "" {
		t.Errorf("refused changes changed the control: %+v", got)
	}
	for _, c := range []struct {
		name, method, path string
		body               map[string]any
		status             int
	}{
		{"unknown version", "POST", "/admin/v1/releases/ledger/9.9.9/halt", reason, http.StatusNotFound},
		{"unknown product", "POST", "/admin/v1/releases/payroll/1.0.0/yank", reason, http.StatusNotFound},
		{"unknown product's rollout", "POST", "/admin/v1/releases/payroll/1.0.0/rollout", full, http.StatusNotFound},
		{"unknown product's status", "GET", "/admin/v1/releases/payroll/status", nil, http.StatusNotFound},
		{"no reason", "POST", base + "halt", map[string]any{}, http.StatusBadRequest},
		{"blank reason", "POST", base + "yank", map[string]any{"reason": "  "}, http.StatusBadRequest},
		{"rollout without reason", "POST", base + "rollout", map[string]any{"percent": 20}, http.StatusBadRequest},
		{"percent 101", "POST", base + "rollout", map[string]any{"percent": 101, "reason": "x"}, http.StatusBadRequest},
		{"percent -1", "POST", base + "rollout", map[string]any{"percent": -1, "reason": "x"}, http.StatusBadRequest},
		{"no percent", "POST", base + "rollout", reason, http.StatusBadRequest},
		{"unknown field", "POST", base + "halt", map[string]any{"reason": "x", "force": true}, http.StatusBadRequest},
	} {
		var body any
		if c.body != nil {
			body = c.body
		}
		a := w.do(0, w.tokens["boss"], c.method, c.path, body, "Accept-Language", "bg")
		if a.status != c.status || a.header.Get("Content-Language") != "bg" || !strings.ContainsFunc(string(a.body), isCyrillic) {
			t.Errorf("%s: %d %s, want %d in Bulgarian", c.name, a.status, a.body, c.status)
		}
	}
	if got := w.control("2.0.0"); got.State != store.ControlLive || got.Percent != 100 || got.ChangedBy != "" {
		t.Errorf("refused changes changed the control: %+v", got)
	}
}

func isCyrillic(r rune) bool { return r >= 'а' && r <= 'я' }
