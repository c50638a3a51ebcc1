package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/store"
)

// publishLedger publishes ledger 1.0.0 and 2.0.0 for linux/amd64.
func (s *site) publishLedger() {
	s.t.Helper()
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, err := s.adm.Publish(s.t.Context(), admin.PublishParams{Product: "ledger", Series: api.SeriesPro, Version: v,
			OS: "linux", Arch: "amd64", File: strings.NewReader("ledger " + v)}); err != nil {
			s.t.Fatal(err)
		}
	}
}

// control is how ledger's version is offered now, read past the console.
func (s *site) control(version string) admin.Control {
	s.t.Helper()
	c, err := s.adm.ReleaseControl(s.t.Context(), admin.Local("test"), "ledger", version)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// releaseEvents are the audit log's release control events, newest first.
func (s *site) releaseEvents() []admin.Event {
	s.t.Helper()
	page, err := s.adm.Events(s.t.Context(), admin.Local("test"), store.AuditQuery{Limit: 200})
	if err != nil {
		s.t.Fatal(err)
	}
	var out []admin.Event
	for _, e := range page.Events {
		if strings.HasPrefix(e.Action, "release.") && e.Action != "release.publish" {
			out = append(out, e)
		}
	}
	return out
}

// releaseChange opens a release change's form from the Releases page,
// fills it in, and posts it to the preview; it returns the preview.
func (b *browser) releaseChange(action string, fill map[string]string) page {
	b.s.t.Helper()
	link := `href="/releases/ledger/2.0.0/` + action + `"`
	if p := b.do("GET", "/releases?product=ledger", nil); !strings.Contains(p.body, link) {
		b.s.t.Fatalf("the Releases page has no %s: %.3000s", link, p.body)
	}
	return b.releasePreview(action, fill)
}

// releasePreview opens a release change's form by its address, fills it
// in, and posts it to the preview.
func (b *browser) releasePreview(action string, fill map[string]string) page {
	b.s.t.Helper()
	f := b.do("GET", "/releases/ledger/2.0.0/"+action, nil)
	if f.status != http.StatusOK || !strings.Contains(f.body, `name="reason"`) {
		b.s.t.Fatalf("the %s form: %d %s", action, f.status, f.body)
	}
	form := f.hidden()
	for k, v := range fill {
		form.Set(k, v)
	}
	return b.do("POST", "/preview", form)
}

// TestHaltThenResumeInTheConsole: an office halts a release and resumes
// it from the Releases page. Each preview shows the state before and
// after and changes nothing; each confirmation changes it, and the audit
// log has the event with the reason and the staff member.
func TestHaltThenResumeInTheConsole(t *testing.T) {
	s := newSite(t)
	s.publishLedger()
	b := s.signIn("maria")
	for _, c := range []struct{ action, before, after, reason string }{
		{"halt", "offered", "halted", "crashes with old printers"},
		{"resume", "halted", "offered", "the printer fix is in the notes"},
	} {
		prev := b.releaseChange(c.action, map[string]string{"reason": c.reason})
		row := `<th scope="row">State</th><td>` + c.before + `</td><td><strong>` + c.after + `</strong></td>`
		if prev.status != http.StatusOK || !strings.Contains(prev.body, row) || !strings.Contains(prev.body, "<strong>"+c.reason+"</strong>") {
			t.Fatalf("%s preview: %d, want the row %s in %s", c.action, prev.status, row, prev.body)
		}
		if n := len(s.releaseEvents()); n != 0 && c.action == "halt" {
			t.Fatalf("the preview changed the control: %d events", n)
		}
		done := b.do("POST", "/apply", prev.hidden())
		if done.status != http.StatusOK || !strings.Contains(done.body, `href="/releases?product=ledger"`) {
			t.Fatalf("%s apply: %d %s", c.action, done.status, done.body)
		}
		want := map[string]string{"halt": store.ControlHalted, "resume": store.ControlLive}[c.action]
		if got := s.control("2.0.0"); got.State != want || got.Reason != c.reason || got.ChangedBy != "staff:maria" {
			t.Errorf("after %s: %+v", c.action, got)
		}
		ev := s.releaseEvents()
		if len(ev) == 0 || ev[0].Action != "release."+c.action || ev[0].Actor != "staff:maria" || ev[0].Reason != c.reason || ev[0].Address == "" {
			t.Errorf("after %s, the audit log's newest release event: %+v", c.action, ev)
		}
	}
	if got := s.control("1.0.0"); got.State != store.ControlLive || got.ChangedBy != "" {
		t.Errorf("the other release changed: %+v", got)
	}
}

// TestRolloutAndWithdrawalInTheConsole: a rollout's preview shows the
// percent before and after; a withdrawal's warns that it cannot be
// undone and names the release installations move back to.
func TestRolloutAndWithdrawalInTheConsole(t *testing.T) {
	s := newSite(t)
	s.publishLedger()
	b := s.signIn("boss")
	if p := b.releaseChange("rollout", map[string]string{"percent": "101", "reason": "x"}); p.status != http.StatusBadRequest {
		t.Errorf("a rollout to 101%%: %d", p.status)
	}
	if p := b.releaseChange("halt", map[string]string{"reason": ""}); p.status != http.StatusBadRequest {
		t.Errorf("a halt without a reason: %d", p.status)
	}
	prev := b.releaseChange("rollout", map[string]string{"percent": "25", "reason": "first customers"})
	if !strings.Contains(prev.body, `<th scope="row">Rollout</th><td>100%</td><td><strong>25%</strong></td>`) {
		t.Fatalf("rollout preview: %d %s", prev.status, prev.body)
	}
	if d := b.do("POST", "/apply", prev.hidden()); d.status != http.StatusOK || !strings.Contains(d.body, "offered to 25% of installations") {
		t.Fatalf("rollout apply: %d %s", d.status, d.body)
	}
	if got := s.control("2.0.0"); got.Percent != 25 {
		t.Errorf("rollout: %d%%", got.Percent)
	}
	prev = b.releaseChange("yank", map[string]string{"reason": "corrupts the stock ledger"})
	if !strings.Contains(prev.body, "This cannot be undone") ||
		!strings.Contains(prev.body, `<th scope="row">Installations on linux/amd64</th><td>2.0.0</td><td><strong>1.0.0, free of charge</strong></td>`) {
		t.Fatalf("yank preview: %d %s", prev.status, prev.body)
	}
	if strings.Contains(prev.body, `id="confirm" autofocus`) {
		t.Error("Enter would confirm an irreversible withdrawal: the Confirm button has the focus")
	}
	if got := s.control("2.0.0"); got.State != store.ControlLive {
		t.Fatalf("the yank's preview changed the state: %s", got.State)
	}
	if d := b.do("POST", "/apply", prev.hidden()); d.status != http.StatusOK || !strings.Contains(d.body, "installations move back to 1.0.0 free of charge") {
		t.Fatalf("yank apply: %d %s", d.status, d.body)
	}
	if got := s.control("2.0.0"); got.State != store.ControlYanked {
		t.Errorf("after the yank: %s", got.State)
	}
	if p := b.do("GET", "/releases?product=ledger", nil); strings.Contains(p.body, `/releases/ledger/2.0.0/`) {
		t.Errorf("a withdrawn release still has actions: %s", p.body)
	}
}

// TestReleaseControlPagesInEveryLanguage: every release form and preview
// has all its phrases, in each language.
func TestReleaseControlPagesInEveryLanguage(t *testing.T) {
	s := newSite(t)
	s.publishLedger()
	b := s.signIn("boss")
	for _, lang := range []string{"bg", "en"} {
		b.lang = lang
		for _, action := range []string{"rollout", "halt", "resume", "yank"} {
			p := b.releasePreview(action, map[string]string{"reason": "a test", "percent": "50"})
			if p.status != http.StatusOK || strings.Contains(p.body, "MISSING:") || !strings.Contains(p.body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s preview: %d %.2000s", lang, action, p.status, p.body)
			}
		}
	}
	if ev := s.releaseEvents(); len(ev) != 0 {
		t.Errorf("previews changed the control: %+v", ev)
	}
}

// TestSupportAndDistributorsCannotControlReleases: support and a
// distributor see the field reports but no action, are refused the forms,
// and a forged form of theirs (with their own session's CSRF token)
// is refused (403) and changes nothing.
func TestSupportAndDistributorsCannotControlReleases(t *testing.T) {
	s := newSite(t)
	s.publishLedger()
	forms := map[string]map[string][]string{
		"release-halt":    {"reason": {"forged"}},
		"release-rollout": {"reason": {"forged"}, "percent": {"0"}},
		"release-yank":    {"reason": {"forged"}},
	}
	for _, login := range []string{"help", "plovdiv"} {
		b := s.signIn(login)
		p := b.do("GET", "/releases?product=ledger", nil)
		if p.status != http.StatusOK || !strings.Contains(p.body, `<th scope="row">2.0.0</th>`) || strings.Contains(p.body, "/releases/ledger/") ||
			strings.Contains(p.body, "Withdraw for good") {
			t.Errorf("%s's Releases page: %d %s", login, p.status, p.body)
		}
		for _, action := range []string{"rollout", "halt", "resume", "yank"} {
			if f := b.do("GET", "/releases/ledger/2.0.0/"+action, nil); f.status != http.StatusForbidden {
				t.Errorf("%s's %s form: %d", login, action, f.status)
			}
		}
		csrf := b.csrf()
		for action, fields := range forms {
			form := map[string][]string{"csrf": {csrf}, "action": {action}, "product": {"ledger"}, "version": {"2.0.0"}}
			for k, v := range fields {
				form[k] = v
			}
			for _, path := range []string{"/preview", "/apply"} {
				if r := b.do("POST", path, form); r.status != http.StatusForbidden {
					t.Errorf("%s's forged %s to %s: %d %.500s", login, action, path, r.status, r.body)
				}
			}
		}
	}
	if got := s.control("2.0.0"); got.State != store.ControlLive || got.Percent != 100 || got.ChangedBy != "" {
		t.Errorf("refused forms changed the control: %+v", got)
	}
	if ev := s.releaseEvents(); len(ev) != 0 {
		t.Errorf("refused forms are in the audit log: %+v", ev)
	}
}
