package adminapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/server/staff"
)

// FuzzAdminRequest sends the admin API any method, path, query and body
// with a valid admin token: it may refuse, never fail (5xx) or panic, and
// every refusal is the JSON error body.
func FuzzAdminRequest(f *testing.F) {
	for _, s := range []struct{ method, target, body string }{
		{"GET", "/admin/v1/customers?q=%D0%98%D0%B2&limit=3", ""},
		{"GET", "/admin/v1/customers?limit=-1&after=%00", ""},
		{"POST", "/admin/v1/activations", `{"customer":"A","series":"pro","updates":1,"idempotency_key":"k"}`},
		{"POST", "/admin/v1/activations", `{"customer":"A","series":"classic","updates":99999999999999999999}`},
		{"POST", "/admin/v1/activations", `null`},
		{"POST", "/admin/v1/activations", `{"customer":"A","series":"pro","updates":1,"extra":true}`},
		{"POST", "/admin/v1/entitlements/1/corrections", `{"updates":-9223372036854775808,"reason":"x"}`},
		{"POST", "/admin/v1/entitlements/99999999999999999999/suspend", `{"reason":"x"}`},
		{"PATCH", "/admin/v1/customers/Own%20Ltd", `{"vat":null,"distributor":"\u0000"}`},
		{"GET", "/admin/v1/audit?from=2026-13-45&before=1e9", ""},
		{"POST", "/admin/v1/staff", `{"login":"../../x","role":"admin"}`},
		{"POST", "/admin/v1/tokens", `{"login":"boss","name":"` + strings.Repeat("n", 300) + `"}`},
		{"DELETE", "/admin/v1/tokens/1", ""},
	} {
		f.Add(s.method, s.target, s.body)
	}
	w := newWorld(f, "", 1, staff.RequestLimit{N: 1 << 30, Window: time.Minute}) // never reached: the fuzzer fuzzes the routes, not the limiter
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/admin/v1/") || strings.ContainsAny(method, " \r\n\t") || method == "" {
			return
		}
		req := httptest.NewRequest("GET", "/", strings.NewReader(body))
		req.Method = method
		if err := setTarget(req, target); err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+w.tokens["boss"])
		rec := httptest.NewRecorder()
		w.handlers[0].ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && rec.Code != 405 {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s %q: %d with body %q, not the JSON error", method, target, body, rec.Code, rec.Body)
			}
		}
	})
}

// setTarget points req at target, as a server would parse it.
func setTarget(req *http.Request, target string) error {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return err
	}
	req.URL, req.RequestURI = u, target
	return nil
}
