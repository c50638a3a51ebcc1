package adminapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/pgtest"
	"github.com/aktual/aktual/server/adminapi"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// noLimit is a request limit no test reaches.
var noLimit = staff.RequestLimit{N: 100000, Window: 60e9}

// validBody is a body each route accepts, so that what refuses a request
// in these tests is who sent it, never what it says.
func validBody(rt adminapi.Route) any {
	switch {
	case rt.Method == "GET" || strings.HasSuffix(rt.Path, "/reset-password"):
		return nil
	case rt.Path == "/admin/v1/customers/{name}":
		return map[string]any{"vat": "BG000"}
	case rt.Path == "/admin/v1/activations":
		return map[string]any{"customer": "Нов клиент", "series": "pro", "updates": 1}
	case strings.HasSuffix(rt.Path, "/updates"):
		return map[string]any{"updates": 1}
	case strings.HasSuffix(rt.Path, "/replace-key"):
		return map[string]any{"hwkey": "HK-NEW", "reason": "lost"}
	case strings.HasSuffix(rt.Path, "/rollout"):
		return map[string]any{"percent": 50, "reason": "a test"}
	case strings.HasSuffix(rt.Path, "/corrections"):
		return map[string]any{"updates": 1, "reason": "goodwill"}
	case rt.Path == "/admin/v1/distributors":
		return map[string]any{"name": "Русе"}
	case rt.Path == "/admin/v1/staff":
		return map[string]any{"login": "newbie", "role": "support"}
	case rt.Path == "/admin/v1/tokens":
		return map[string]any{"login": "help", "name": "second"}
	}
	return map[string]any{"reason": "a test"}
}

// pathFor fills a route's parameters with customer's entitlement and name.
func (w *world) pathFor(rt adminapi.Route, customer string) string {
	p := rt.Path
	p = strings.ReplaceAll(p, "{name}", url.PathEscape(customer))
	p = strings.ReplaceAll(p, "{login}", "help")
	p = strings.NewReplacer("{product}", "ledger", "{version}", "2.0.0").Replace(p)
	if strings.HasPrefix(p, "/admin/v1/tokens/") {
		return strings.ReplaceAll(p, "{id}", "1")
	}
	return strings.ReplaceAll(p, "{id}", fmt.Sprint(w.ids[customer]))
}

func TestEveryRouteRefusesWithoutCredentials(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	for _, rt := range adminapi.Routes() {
		for name, token := range map[string]string{"none": "", "unknown": "akt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "malformed": "not a token"} {
			a := w.do(0, token, rt.Method, w.pathFor(rt, "Own Ltd"), validBody(rt))
			if a.status != http.StatusUnauthorized || a.code() != "unauthorized" || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %s token: %d %s %q, want 401 unauthorized with WWW-Authenticate", rt.Method, rt.Path, name, a.status, a.body, a.header.Get("WWW-Authenticate"))
			}
		}
	}
}

// snapshot is everything a refused request must leave as it was.
func (w *world) snapshot() string {
	w.t.Helper()
	ctx := w.t.Context()
	all, err := w.admin.Store.Entitlements(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	events, _, err := w.admin.Store.Events(ctx, store.AuditQuery{Limit: 200})
	if err != nil {
		w.t.Fatal(err)
	}
	accounts, err := w.admin.Store.StaffAccounts(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	tokens, err := w.admin.Store.Tokens(ctx, "")
	if err != nil {
		w.t.Fatal(err)
	}
	var revoked int
	for _, tk := range tokens {
		if !tk.RevokedAt.IsZero() {
			revoked++
		}
	}
	controls, err := w.admin.Store.ReleaseControls(ctx, "ledger")
	if err != nil {
		w.t.Fatal(err)
	}
	return fmt.Sprintf("%+v events=%d accounts=%d tokens=%d revoked=%d controls=%+v", all, len(events), len(accounts), len(tokens), revoked, controls)
}

func TestSupportChangesNothing(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	before := w.snapshot()
	for _, rt := range adminapi.Routes() {
		if rt.Method == "GET" {
			if a := w.do(0, w.tokens["help"], rt.Method, w.pathFor(rt, "Own Ltd"), nil); a.status != http.StatusOK && !strings.Contains(rt.Path, "staff") && !strings.Contains(rt.Path, "tokens") {
				t.Errorf("support: %s %s = %d %s, want 200", rt.Method, rt.Path, a.status, a.body)
			}
			continue
		}
		a := w.do(0, w.tokens["help"], rt.Method, w.pathFor(rt, "Own Ltd"), validBody(rt))
		if a.status != http.StatusForbidden || a.code() != "forbidden" {
			t.Errorf("support: %s %s = %d %s, want 403 forbidden", rt.Method, rt.Path, a.status, a.body)
		}
	}
	if after := w.snapshot(); after != before {
		t.Errorf("refused requests changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

// TestDistributorCannotSeeAnothersCustomers: every route that names a
// customer or entitlement of another distributor answers 404 with the
// words it gives for one that does not exist, and changes nothing.
func TestDistributorCannotSeeAnothersCustomers(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	for _, name := range []string{"plovdiv", "plovdiv-support"} {
		t.Run(name, func(t *testing.T) { distributorSeesOwnOnly(t, w, w.tokens[name]) })
	}
}

func distributorSeesOwnOnly(t *testing.T, w *world, tok string) {
	before := w.snapshot()
	for _, rt := range adminapi.Routes() {
		if !strings.Contains(rt.Path, "{name}") && !strings.HasPrefix(rt.Path, "/admin/v1/entitlements/") {
			continue
		}
		a := w.do(0, tok, rt.Method, w.pathFor(rt, "Варна ООД"), validBody(rt))
		if a.status == http.StatusForbidden {
			continue // the role may not do it to anyone (a correction)
		}
		ghost := w.do(0, tok, rt.Method, strings.NewReplacer(fmt.Sprint(w.ids["Варна ООД"]), "999", url.PathEscape("Варна ООД"), "Nobody").Replace(w.pathFor(rt, "Варна ООД")), validBody(rt))
		seen := strings.NewReplacer(fmt.Sprint(w.ids["Варна ООД"]), "N", "Варна ООД", "X").Replace(string(a.body))
		unseen := strings.NewReplacer("999", "N", "Nobody", "X").Replace(string(ghost.body))
		if a.status != http.StatusNotFound || seen != unseen {
			t.Errorf("distributor: %s %s on another's customer = %d %s; for none at all: %d %s", rt.Method, rt.Path, a.status, a.body, ghost.status, ghost.body)
		}
	}
	if after := w.snapshot(); after != before {
		t.Errorf("refused requests changed the store:\nbefore %s\nafter  %s", before, after)
	}
	// The search finds their own customer and nobody else's, by any key.
	for _, q := range []string{"", "ООД", "Варна", "HK-V1", "Own", w.codes["Own Ltd"]} {
		var page struct {
			Customers []struct{ Name string }
		}
		w.do(0, tok, "GET", "/admin/v1/customers?q="+url.QueryEscape(q), nil).decode(t, &page)
		for _, c := range page.Customers {
			if c.Name != "ЕТ Иванов" {
				t.Errorf("distributor's search %q found %s", q, c.Name)
			}
		}
	}
	// The audit log shows only what was done to their own customers.
	var events struct {
		Events []struct{ Customer string }
	}
	w.do(0, tok, "GET", "/admin/v1/audit", nil).decode(t, &events)
	if len(events.Events) == 0 {
		t.Error("the distributor sees no event at all; it should see its own customer's activation")
	}
	for _, e := range events.Events {
		if e.Customer != "ЕТ Иванов" {
			t.Errorf("distributor's audit log shows an event of %q", e.Customer)
		}
	}
	var ds struct{ Distributors []string }
	w.do(0, tok, "GET", "/admin/v1/distributors", nil).decode(t, &ds)
	if len(ds.Distributors) != 1 || ds.Distributors[0] != "Пловдив Софт" {
		t.Errorf("distributors listed: %v", ds.Distributors)
	}
}

// TestDisabledAccountIsRefusedAtOnceOnEveryReplica: an admin disables an
// account through one replica; the next request of its token to the other
// is refused, with no cache to wait out.
func TestDisabledAccountIsRefusedAtOnceOnEveryReplica(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			w := newWorld(t, db.url(t), 2, noLimit)
			for i := range 2 {
				if a := w.do(i, w.tokens["maria"], "GET", "/admin/v1/whoami", nil); a.status != http.StatusOK {
					t.Fatalf("replica %d before: %d %s", i, a.status, a.body)
				}
			}
			if a := w.do(0, w.tokens["boss"], "POST", "/admin/v1/staff/maria/disable", map[string]string{"reason": "left the company"}); a.status != http.StatusOK {
				t.Fatalf("disable: %d %s", a.status, a.body)
			}
			for i := range 2 {
				if a := w.do(i, w.tokens["maria"], "GET", "/admin/v1/customers?q=Own", nil); a.status != http.StatusUnauthorized {
					t.Errorf("replica %d after disabling: %d %s, want 401", i, a.status, a.body)
				}
			}
		})
	}
}

type database struct {
	name string
	url  func(t *testing.T) string
}

// databases are the stores replicas can share: the data folder's SQLite
// file, and PostgreSQL (skipped on a machine without it, failed in CI).
func databases(*testing.T) []database {
	return []database{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
	}
}
