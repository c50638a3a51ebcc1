package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/ratelimit"
	"github.com/aktual/aktual/server/store"
)

// POST /v1/entitlements/query: how many updates a credential has left,
// for aktual check. It reserves nothing, and it is limited like reserve,
// so it is no way to guess codes.

const queryPath = "/v1/entitlements/query"

func (f *fixture) query(t *testing.T, q api.EntitlementQuery) reply {
	t.Helper()
	return f.post(t, queryPath, mustJSON(t, q))
}

func codeQuery(code, product string) api.EntitlementQuery {
	return api.EntitlementQuery{Credential: api.Credential{Code: code}, Product: product}
}

// keyQuery is the query a hardware key makes: its licence and its
// signature of a fresh challenge.
func (c *classicFixture) keyQuery(t *testing.T, key hwkey.Key, product string) api.EntitlementQuery {
	t.Helper()
	req := c.sessionRequest(t, key, c.challenge(t))
	return api.EntitlementQuery{
		Credential: api.Credential{HWKey: &api.HWKeyProof{Licence: req.Licence, Challenge: req.Challenge, Signature: req.Signature}},
		Product:    product,
	}
}

// snapshot is everything the store holds about entitlements: rows,
// ledgers and the audit's verdict.
type snapshot struct {
	entitlements []store.Entitlement
	ledgers      map[int64][]store.LedgerEntry
	audit        admin.AuditReport
}

func (f *fixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	ents, err := f.inst.Store.Entitlements(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{entitlements: ents, ledgers: map[int64][]store.LedgerEntry{}}
	for _, e := range ents {
		if s.ledgers[e.ID], err = f.inst.Store.Ledger(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	if s.audit, err = f.admin.Audit(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) wantSnapshot(t *testing.T, before snapshot) {
	t.Helper()
	if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
		t.Errorf("the store changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

func wantStatus(t *testing.T, r reply, want api.EntitlementStatus) {
	t.Helper()
	if got := decodeOK[api.EntitlementStatus](t, r); got != want {
		t.Errorf("status %+v, want %+v", got, want)
	}
}

func TestEntitlementQueryChangesNothing(t *testing.T) {
	c := newClassicFixture(t)
	f := c.fixture
	code := f.activate(t, "alice", 5)
	held := f.mustReserve(t, code, proApp, "held")
	done := f.mustReserve(t, code, proApp, "done")
	decodeOK[api.ReservationResponse](t, f.complete(t, done.Reservation.ID))
	c.activateClassic(t, keyCustomer, keySerial, 3)
	before := f.snapshot(t)

	// More queries than the attempt allowance: answers are not failures.
	for i := range ratelimit.DefaultAllowance + 5 {
		wantStatus(t, f.query(t, codeQuery(code, proApp)),
			api.EntitlementStatus{Product: proApp, Series: api.SeriesPro, Active: true, Remaining: 3, Held: 1})
		wantStatus(t, f.query(t, c.keyQuery(t, c.key, classicApp)),
			api.EntitlementStatus{Product: classicApp, Series: api.SeriesClassic, Active: true, Remaining: 3})
		if t.Failed() {
			t.Fatalf("query %d", i+1)
		}
	}
	f.wantSnapshot(t, before)

	// The code's count is what reserve then takes from.
	decodeOK[api.ReservationResponse](t, f.release(t, held.Reservation.ID))
	wantStatus(t, f.query(t, codeQuery(code, proApp)),
		api.EntitlementStatus{Product: proApp, Series: api.SeriesPro, Active: true, Remaining: 4})
	if rr := f.mustReserve(t, code, proApp, "after"); rr.Remaining != 3 {
		t.Errorf("reserve after the queries left %d, want 3", rr.Remaining)
	}
}

// TestEntitlementQueryExhausted: none left is an answer, not a refusal:
// the installer says "none left" before anything is downloaded.
func TestEntitlementQueryExhausted(t *testing.T) {
	c := newClassicFixture(t)
	f := c.fixture
	code := f.activate(t, "alice", 1)
	rr := f.mustReserve(t, code, proApp, "only")
	wantStatus(t, f.query(t, codeQuery(code, proApp)),
		api.EntitlementStatus{Product: proApp, Series: api.SeriesPro, Active: true, Remaining: 0, Held: 1})
	decodeOK[api.ReservationResponse](t, f.complete(t, rr.Reservation.ID))
	wantStatus(t, f.query(t, codeQuery(code, proApp)),
		api.EntitlementStatus{Product: proApp, Series: api.SeriesPro, Active: true, Remaining: 0})
	wantError(t, f.reserve(t, reserveRequest(code, proApp, "more")), http.StatusConflict, api.CodeExhausted)

	c.activateClassic(t, keyCustomer, keySerial, 1)
	s := c.open(t, c.key)
	c.mustReserveClassic(t, s.ID, c.code(s.ID).String(), "classic", 0)
	wantStatus(t, f.query(t, c.keyQuery(t, c.key, classicApp)),
		api.EntitlementStatus{Product: classicApp, Series: api.SeriesClassic, Active: true, Remaining: 0, Held: 1})
}

// TestEntitlementQueryRefused: the refusals reserve gives, with its codes,
// and nothing changes.
func TestEntitlementQueryRefused(t *testing.T) {
	clk := &testClock{}
	clk.Set(classicStart)
	f := newFixtureWith(t, func(s *server.Server) {
		s.Now = clk.Now
		// This table is about answers, not limits (see the limit tests).
		s.Limiter = ratelimit.New(ratelimit.Limits{Allowance: math.MaxInt, Now: clk.Now})
	})
	f.publish(t, classicApp, api.SeriesClassic, "2.0.0", "linux", "amd64")
	f.publish(t, proApp, api.SeriesPro, "2.0.0", "linux", "amd64")
	c := &classicFixture{fixture: f, clock: clk}
	c.key = c.issue(t, f.inst.Keys.Release, keySerial, nil, time.Time{})
	c.activateClassic(t, keyCustomer, keySerial, 3)
	code := f.activate(t, "alice", 5)
	release := f.inst.Keys.Release
	_, otherVendor, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mistyped := code[:len(code)-1] + string('0'+(code[len(code)-1]-'0'+1)%10)

	for _, tc := range []struct {
		name    string
		query   func(t *testing.T) api.EntitlementQuery
		status  int
		code    string
		message string // a part of the message
	}{
		{"mistyped code", func(*testing.T) api.EntitlementQuery { return codeQuery(mistyped, proApp) },
			http.StatusBadRequest, api.CodeInvalidCode, "looks mistyped"},
		{"unknown code", func(t *testing.T) api.EntitlementQuery { return codeQuery(wrongCode(t), proApp) },
			http.StatusForbidden, api.CodeUnknownCredential, "not known to the server"},
		{"code for a classic product", func(*testing.T) api.EntitlementQuery { return codeQuery(code, classicApp) },
			http.StatusForbidden, api.CodeWrongSeries, "abacus is a classic-series product"},
		{"unknown product", func(*testing.T) api.EntitlementQuery { return codeQuery(code, "nosuch") },
			http.StatusNotFound, api.CodeNotFound, "no product named nosuch"},
		{"key for a Pro product", func(t *testing.T) api.EntitlementQuery { return c.keyQuery(t, c.key, proApp) },
			http.StatusForbidden, api.CodeWrongSeries, "ledger is a Pro-series product"},
		{"key not activated", func(t *testing.T) api.EntitlementQuery {
			return c.keyQuery(t, c.issue(t, release, "HK-OFF", nil, time.Time{}), classicApp)
		}, http.StatusForbidden, api.CodeInactive, "site access is not enabled for hardware key HK-OFF"},
		{"licence of another vendor", func(t *testing.T) api.EntitlementQuery {
			return c.keyQuery(t, c.issue(t, otherVendor, keySerial, nil, time.Time{}), classicApp)
		}, http.StatusForbidden, api.CodeUnknownCredential, "not valid for this vendor"},
		{"signature by another key", func(t *testing.T) api.EntitlementQuery {
			q := c.keyQuery(t, c.key, classicApp)
			q.Credential.HWKey.Signature = c.keyQuery(t, c.issue(t, release, "HK-2", nil, time.Time{}), classicApp).Credential.HWKey.Signature
			return q
		}, http.StatusForbidden, api.CodeUnknownCredential, "did not prove it is present"},
		{"no signature", func(t *testing.T) api.EntitlementQuery {
			q := c.keyQuery(t, c.key, classicApp)
			q.Credential.HWKey.Signature = nil
			return q
		}, http.StatusForbidden, api.CodeUnknownCredential, "did not prove it is present"},
		{"challenge not the server's", func(t *testing.T) api.EntitlementQuery {
			q := c.keyQuery(t, c.key, classicApp)
			q.Credential.HWKey.Challenge[len(q.Credential.HWKey.Challenge)-1] ^= 1
			return q
		}, http.StatusBadRequest, api.CodeExpired, "not issued by this server"},
		{"challenge expired", func(t *testing.T) api.EntitlementQuery {
			q := c.keyQuery(t, c.key, classicApp)
			clk.Set(classicStart.Add(server.ChallengeTTL + time.Second))
			t.Cleanup(func() { clk.Set(classicStart) })
			return q
		}, http.StatusBadRequest, api.CodeExpired, "the challenge has expired"},
		{"licence expired", func(t *testing.T) api.EntitlementQuery {
			return c.keyQuery(t, c.issue(t, release, keySerial, nil, classicStart.Add(-time.Hour)), classicApp)
		}, http.StatusForbidden, api.CodeExpired, "ask your vendor to renew it"},
		{"licence for other products", func(t *testing.T) api.EntitlementQuery {
			return c.keyQuery(t, c.issue(t, release, keySerial, []string{"other"}, time.Time{}), classicApp)
		}, http.StatusForbidden, api.CodeUnknownCredential, "licensed for other, not for abacus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.query(t)
			before := f.snapshot(t)
			e := wantError(t, f.query(t, q), tc.status, tc.code)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			f.wantSnapshot(t, before)
		})
	}
}

// TestEntitlementQueryMalformed: bodies the endpoint refuses with 400 (or
// 413), before any credential is looked at.
func TestEntitlementQueryMalformed(t *testing.T) {
	c := newClassicFixture(t)
	f := c.fixture
	code := f.activate(t, "alice", 5)
	proof := mustJSON(t, c.keyQuery(t, c.key, classicApp).Credential.HWKey)
	good := `{"credential":{"code":"` + code + `"},"product":"ledger"}`
	before := f.snapshot(t)
	for _, tc := range []struct{ name, body, says string }{
		{"empty", "", "request body is empty"},
		{"null", "null", "must be a JSON object"},
		{"an array", "[" + good + "]", "must be a JSON object"},
		{"not JSON", "credential=x", "must be a JSON object"},
		{"truncated", good[:len(good)-2], "not valid JSON"},
		{"trailing data", good + "{}", "after the JSON value"},
		{"unknown field", `{"credential":{"code":"` + code + `"},"product":"ledger","reserve":true}`, "unknown field"},
		{"unknown credential field", `{"credential":{"code":"` + code + `","serial":"HK-1"},"product":"ledger"}`, "unknown field"},
		{"unknown proof field", `{"credential":{"hwkey":` + strings.TrimSuffix(proof, "}") + `,"serial":"HK-1"}},"product":"abacus"}`, "unknown field"},
		{"duplicate product", `{"credential":{"code":"` + code + `"},"product":"abacus","product":"ledger"}`, "duplicate key"},
		{"code is a number", `{"credential":{"code":12345},"product":"ledger"}`, "not valid JSON"},
		{"larger than MaxRequestBody", good + strings.Repeat(" ", api.MaxRequestBody), "larger than"},
		{"no credential", `{"product":"ledger"}`, "credential is required"},
		{"empty credential", `{"credential":{},"product":"ledger"}`, "credential is required"},
		{"code and hardware key", `{"credential":{"code":"` + code + `","hwkey":` + proof + `},"product":"ledger"}`, "credential is required"},
		{"a session", `{"credential":{"session":"s_abc","internet_code":"123-456-789"},"product":"abacus"}`, "credential is required"},
		{"code and Internet code", `{"credential":{"code":"` + code + `","internet_code":"123-456-789"},"product":"ledger"}`, "credential is required"},
		{"no product", `{"credential":{"code":"` + code + `"}}`, "product is required"},
		{"product a path", `{"credential":{"code":"` + code + `"},"product":"../ledger"}`, "product is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post(t, queryPath, tc.body)
			status := http.StatusBadRequest
			if tc.says == "larger than" {
				status = http.StatusRequestEntityTooLarge
			}
			if e := wantError(t, r, status, api.CodeBadRequest); !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q does not say %q", e.Message, tc.says)
			}
		})
	}
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		wantError(t, f.do(t, method, queryPath, nil), http.StatusMethodNotAllowed, api.CodeBadRequest)
	}
	f.wantSnapshot(t, before)

	t.Run("a reserve takes no hardware-key proof", func(t *testing.T) {
		req := reserveRequest("", classicApp, "k")
		req.Credential.HWKey = c.keyQuery(t, c.key, classicApp).Credential.HWKey
		e := wantError(t, f.reserve(t, req), http.StatusBadRequest, api.CodeBadRequest)
		if !strings.Contains(e.Message, "credential is required") {
			t.Errorf("message %q does not say what a reserve takes", e.Message)
		}
		f.wantSnapshot(t, before)
	})
}

// TestEntitlementQueryRateLimited: a wrong code asked about counts as a
// wrong code reserved with, per address and per code; past the allowance
// the address is answered 429 with Retry-After, even for the right code.
func TestEntitlementQueryRateLimited(t *testing.T) {
	clk := &testClock{}
	clk.Set(classicStart)
	f := newFixtureWith(t, func(s *server.Server) { s.Now = clk.Now })
	f.publish(t, proApp, api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	before := f.snapshot(t)

	t.Run("per address", func(t *testing.T) {
		attacker := clientFrom(t, f.url, "127.0.0.2")
		for i := range ratelimit.DefaultAllowance + 1 {
			// The allowance, and the failure past it that starts the block.
			wantError(t, attacker.post(t, f.url, queryPath, mustJSON(t, codeQuery(wrongCode(t), proApp))),
				http.StatusForbidden, api.CodeUnknownCredential)
			if t.Failed() {
				t.Fatalf("query %d", i+1)
			}
		}
		wantRateLimited(t, attacker.post(t, f.url, queryPath, mustJSON(t, codeQuery(wrongCode(t), proApp))),
			1, "too many wrong codes from this address")
		// Not an oracle: the right code is refused too while blocked, and
		// reserve is blocked as well.
		wantRateLimited(t, attacker.post(t, f.url, queryPath, mustJSON(t, codeQuery(code, proApp))),
			1, "this address")
		wantRateLimited(t, attacker.post(t, f.url, "/v1/reservations", mustJSON(t, reserveRequest(code, proApp, "k"))),
			1, "this address")
		// The customer elsewhere is not.
		wantStatus(t, f.query(t, codeQuery(code, proApp)),
			api.EntitlementStatus{Product: proApp, Series: api.SeriesPro, Active: true, Remaining: 3})
		// After Retry-After, one more try, then a block twice as long.
		clk.Set(classicStart.Add(time.Second))
		wantError(t, attacker.post(t, f.url, queryPath, mustJSON(t, codeQuery(wrongCode(t), proApp))),
			http.StatusForbidden, api.CodeUnknownCredential)
		wantRateLimited(t, attacker.post(t, f.url, queryPath, mustJSON(t, codeQuery(wrongCode(t), proApp))),
			2, "this address")
	})

	t.Run("per code, queries and reserves together", func(t *testing.T) {
		a, b := clientFrom(t, f.url, "127.0.0.3"), clientFrom(t, f.url, "127.0.0.4")
		same := wrongCode(t)
		for i := range ratelimit.DefaultAllowance + 1 {
			cl := []from{a, b}[i%2]
			path, body := queryPath, mustJSON(t, codeQuery(same, proApp))
			if i%3 == 0 {
				path, body = "/v1/reservations", mustJSON(t, reserveRequest(same, proApp, fmt.Sprint("k", i)))
			}
			wantError(t, cl.post(t, f.url, path, body), http.StatusForbidden, api.CodeUnknownCredential)
		}
		for _, cl := range []from{a, b} {
			wantRateLimited(t, cl.post(t, f.url, queryPath, mustJSON(t, codeQuery(same, proApp))),
				1, "this update code was refused too many times")
		}
	})
	f.wantSnapshot(t, before)
}
