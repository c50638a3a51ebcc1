package console_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// TestFieldReportsOnTheReleasesPage: the releases page shows a product's
// field reports as aktuald release status counts them, in each language.
func TestFieldReportsOnTheReleasesPage(t *testing.T) {
	s := newSite(t)
	report := func(n int, outcome, cause string) api.FieldReport {
		return api.FieldReport{ID: fmt.Sprintf("%032x", n), Product: "ledger", Installation: fmt.Sprintf("%032x", 100+n),
			FromVersion: "1.0.0", ToVersion: "2.0.0", Outcome: outcome, Cause: cause,
			Installer: "1.0.0", OS: "linux", Arch: "amd64", At: time.Date(2031, 1, 1, 0, 0, n, 0, time.UTC)}
	}
	if _, err := s.adm.Store.AddReports(t.Context(), []api.FieldReport{
		report(1, api.OutcomeApplied, ""), report(2, api.OutcomeApplied, ""), report(3, api.OutcomeFailed, "credential_rejected"),
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	b := s.signIn("help") // support may look
	for lang, words := range map[string][2]string{"en": {"offered", "stable"}, "bg": {"предлага се", "стабилен"}} {
		b.lang = lang
		p := b.do("GET", "/releases?product=ledger", nil)
		row := `<tr><th scope="row">2.0.0</th><td>` + words[0] + `</td><td>100%</td><td>` + words[1] + `</td><td>3</td><td>3</td>
    <td>2</td><td>0</td><td>1</td><td>67%</td><td>2</td><td>credential_rejected 1</td></tr>`
		if p.status != 200 || !strings.Contains(p.body, row) {
			t.Errorf("%s: %d, want the row %s in:\n%.3000s", lang, p.status, row, p.body)
		}
	}
}
