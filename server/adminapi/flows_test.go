package adminapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// TestContractShapes: the names support staff's scripts rely on.
func TestContractShapes(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	a := w.do(0, w.tokens["maria"], "GET", "/admin/v1/customers?q="+url.QueryEscape("иванов"), nil)
	var page map[string]any
	a.decode(t, &page)
	list, ok := page["customers"].([]any)
	if a.status != 200 || !ok || len(list) != 1 || list[0].(map[string]any)["name"] != "ЕТ Иванов" {
		t.Fatalf("search: %d %s", a.status, a.body)
	}
	if _, ok := page["next"]; !ok {
		t.Errorf("search answer has no next: %s", a.body)
	}
	a = w.do(0, w.tokens["maria"], "POST", "/admin/v1/activations", map[string]any{
		"customer": "Склад ЕООД", "series": "classic", "updates": 2, "hwkey": "HK-77", "distributor": "Варна Сис", "idempotency_key": "INV-1"})
	var out map[string]any
	a.decode(t, &out)
	if a.status != http.StatusCreated || out["hwkey"] != "HK-77" || out["remaining"] != float64(2) {
		t.Fatalf("classic activation: %d %s", a.status, a.body)
	}
	a = w.do(0, w.tokens["maria"], "POST", "/admin/v1/activations", map[string]any{
		"customer": "Нов ЕООД", "series": "pro", "updates": 1, "idempotency_key": "INV-2"})
	a.decode(t, &out)
	if _, err := api.ParseCode(fmt.Sprint(out["code"])); a.status != http.StatusCreated || err != nil || out["remaining"] != float64(1) {
		t.Fatalf("pro activation: %d %s", a.status, a.body)
	}
}

// TestActivationIsIdempotent: a payment system that retries adds the
// updates once, even when its retries race, and sees the same code.
func TestActivationIsIdempotent(t *testing.T) {
	w := newWorld(t, "", 2, noLimit)
	body := map[string]any{"customer": "Ретрай ООД", "series": "pro", "updates": 4, "idempotency_key": "INV-2026-77"}
	var wg sync.WaitGroup
	answers := make([]answer, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = w.do(i%2, w.tokens["maria"], "POST", "/admin/v1/activations", body)
		}()
	}
	wg.Wait()
	var created int
	var code string
	for _, a := range answers {
		var out admin.Outcome
		a.decode(t, &out)
		switch {
		case a.status == http.StatusCreated && !out.Replayed:
			created++
		case a.status == http.StatusOK && out.Replayed:
		default:
			t.Fatalf("retry: %d %s", a.status, a.body)
		}
		if out.Remaining != 4 || out.Purchased != 4 || out.Code == "" || (code != "" && out.Code != code) {
			t.Errorf("retry answered %+v; want 4 remaining and the one code", out)
		}
		code = out.Code
	}
	if created != 1 {
		t.Errorf("%d requests created the activation, want 1", created)
	}
	body["updates"] = 5
	if a := w.do(0, w.tokens["maria"], "POST", "/admin/v1/activations", body); a.status != http.StatusUnprocessableEntity || a.code() != "idempotency_mismatch" {
		t.Errorf("same key, other body: %d %s, want 422", a.status, a.body)
	}
	// Adding to it is idempotent too.
	path := fmt.Sprintf("/admin/v1/entitlements/%d/updates", w.entitlementOf(t, "Ретрай ООД"))
	for range 3 {
		if a := w.do(1, w.tokens["maria"], "POST", path, map[string]any{"updates": 2, "idempotency_key": "INV-2026-78"}); a.status != http.StatusOK {
			t.Fatalf("add: %d %s", a.status, a.body)
		}
	}
	if c := w.credential(t, "Ретрай ООД"); c.Purchased != 6 || c.Remaining != 6 {
		t.Errorf("after one addition of 2 sent three times: %+v, want 6 purchased", c)
	}
}

func (w *world) entitlementOf(t *testing.T, customer string) int64 {
	t.Helper()
	return w.credential(t, customer).ID
}

func (w *world) credential(t *testing.T, customer string) admin.Credential {
	t.Helper()
	var d admin.CustomerDetail
	a := w.do(0, w.tokens["maria"], "GET", "/admin/v1/customers/"+url.PathEscape(customer), nil)
	a.decode(t, &d)
	if a.status != 200 || len(d.Credentials) != 1 {
		t.Fatalf("customer %s: %d %s", customer, a.status, a.body)
	}
	return d.Credentials[0]
}

// TestChangesKeepTheLedgerTrue: suspend, replace, reissue and correct
// each do what they say, leave the audit clean and name their actor.
func TestChangesKeepTheLedgerTrue(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	ctx, tok := t.Context(), w.tokens["maria"]
	own, varna := w.ids["Own Ltd"], w.ids["Варна ООД"]
	post := func(path string, body any, want int) answer {
		t.Helper()
		a := w.do(0, tok, "POST", path, body)
		if a.status != want {
			t.Fatalf("POST %s: %d %s, want %d", path, a.status, a.body, want)
		}
		return a
	}
	post(fmt.Sprintf("/admin/v1/entitlements/%d/suspend", own), map[string]string{}, 400) // no reason
	post(fmt.Sprintf("/admin/v1/entitlements/%d/suspend", own), map[string]string{"reason": "unpaid invoice"}, 200)
	oldHash := w.codeCredential(t, w.codes["Own Ltd"])
	if e, err := w.admin.Store.Entitlement(ctx, oldHash); err != nil || e.Active {
		t.Fatalf("suspended entitlement: %+v %v", e, err)
	}
	post(fmt.Sprintf("/admin/v1/entitlements/%d/reinstate", own), map[string]string{"reason": "paid"}, 200)
	var re admin.Reissued
	post(fmt.Sprintf("/admin/v1/entitlements/%d/reissue", own), map[string]string{"reason": "code leaked"}, 200).decode(t, &re)
	if _, err := w.admin.Store.Entitlement(ctx, oldHash); err == nil {
		t.Error("the old code still works after a reissue")
	}
	if e, err := w.admin.Store.Entitlement(ctx, w.codeCredential(t, re.Code)); err != nil || e.Remaining != 3 || !e.Active {
		t.Errorf("the new code: %+v %v, want the 3 remaining", e, err)
	}
	post(fmt.Sprintf("/admin/v1/entitlements/%d/replace-key", varna), map[string]string{"hwkey": "HK-V2", "reason": "broken"}, 200)
	if _, err := w.admin.Store.Entitlement(ctx, store.Credential{HWKeySerial: "HK-V1"}); err == nil {
		t.Error("the old key still works after its replacement")
	}
	post(fmt.Sprintf("/admin/v1/entitlements/%d/replace-key", own), map[string]string{"hwkey": "HK-X", "reason": "x"}, 400) // a code, not a key
	post(fmt.Sprintf("/admin/v1/entitlements/%d/corrections", own), map[string]any{"updates": -5, "reason": "typo"}, 409)
	post(fmt.Sprintf("/admin/v1/entitlements/%d/corrections", own), map[string]any{"updates": -1, "reason": "activated one too many"}, 200)
	if c := w.credential(t, "Own Ltd"); c.Purchased != 2 || c.Remaining != 2 {
		t.Errorf("after a correction of -1: %+v", c)
	}
	rep, err := w.admin.Audit(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("audit: %+v %v", rep, err)
	}
	var d admin.CustomerDetail
	w.do(0, tok, "GET", "/admin/v1/customers/Own%20Ltd", nil).decode(t, &d)
	if len(d.History) == 0 || d.History[0].Kind != store.LedgerCorrection || d.History[0].Actor != "token:test@maria" || d.History[0].Reason != "activated one too many" {
		t.Errorf("newest history entry: %+v", d.History)
	}
	var ev admin.EventPage
	w.do(0, tok, "GET", "/admin/v1/audit?customer=Own%20Ltd&actor=token:test@maria", nil).decode(t, &ev)
	actions := map[string]bool{}
	for _, e := range ev.Events {
		actions[e.Action] = true
		if e.Address != "127.0.0.1" {
			t.Errorf("event %s from %q, want 127.0.0.1", e.Action, e.Address)
		}
	}
	for _, want := range []string{"suspend", "reinstate", "reissue", "correct"} {
		if !actions[want] {
			t.Errorf("no %s event in the audit log: %+v", want, ev.Events)
		}
	}
}

func (w *world) codeCredential(t *testing.T, code string) store.Credential {
	t.Helper()
	c, err := api.ParseCode(code)
	if err != nil {
		t.Fatal(err)
	}
	return store.Credential{CodeHash: keyringHash(w, c)}
}

// TestRequestLimitHoldsAcrossReplicas: the limit is one count in the
// database, so requests spread over replicas meet it together.
func TestRequestLimitHoldsAcrossReplicas(t *testing.T) {
	w := newWorld(t, "", 2, staff.RequestLimit{N: 6, Window: time.Minute})
	var refused answer
	ok := 0
	for i := range 12 {
		a := w.do(i%2, w.tokens["help"], "GET", "/admin/v1/whoami", nil)
		if a.status == http.StatusTooManyRequests {
			refused = a
			break
		}
		ok++
	}
	if ok != 6 || refused.code() != "rate_limited" {
		t.Fatalf("%d requests passed before the limit (want 6); refusal %d %s", ok, refused.status, refused.body)
	}
	if s, err := strconv.Atoi(refused.header.Get("Retry-After")); err != nil || s < 1 || s > 61 {
		t.Errorf("Retry-After %q", refused.header.Get("Retry-After"))
	}
	// Another token is not held back by this one's requests.
	if a := w.do(0, w.tokens["maria"], "GET", "/admin/v1/whoami", nil); a.status != http.StatusOK {
		t.Errorf("another token: %d %s", a.status, a.body)
	}
}

// TestForwardedForIsBelievedOnlyFromTrustedProxies: the world's replicas
// trust 127.0.0.1, so the address a proxy there forwards is the one the
// audit log records; a client claiming one without a proxy is not
// believed (see staff.ClientAddr's own tests for the walk).
func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	path := fmt.Sprintf("/admin/v1/entitlements/%d/suspend", w.ids["Own Ltd"])
	if a := w.do(0, w.tokens["maria"], "POST", path, map[string]string{"reason": "proxy"}, "X-Forwarded-For", "198.51.100.7, 203.0.113.9"); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	var ev admin.EventPage
	w.do(0, w.tokens["maria"], "GET", "/admin/v1/audit?customer=Own%20Ltd", nil).decode(t, &ev)
	if len(ev.Events) == 0 || ev.Events[0].Action != "suspend" || ev.Events[0].Address != "203.0.113.9" {
		t.Errorf("newest event %+v; want the suspend from 203.0.113.9", ev.Events)
	}
}

// TestInvoiceNumbersAreEachDistributors: two distributors' invoices may
// share a number; each activates once, neither is told of the other.
func TestInvoiceNumbersAreEachDistributors(t *testing.T) {
	w := newWorld(t, "", 1, noLimit)
	for i, who := range []string{"plovdiv", "varna"} {
		body := map[string]any{"customer": fmt.Sprintf("Клиент %d", i), "series": "pro", "updates": 1, "idempotency_key": "2026-0001"}
		if a := w.do(0, w.tokens[who], "POST", "/admin/v1/activations", body); a.status != http.StatusCreated {
			t.Errorf("%s's invoice 2026-0001: %d %s", who, a.status, a.body)
		}
	}
}
