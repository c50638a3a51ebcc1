package server_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/store"
)

// The classic series: a hardware key proves it is present by signing a
// server challenge, which opens a session; the session's page shows an
// Internet code (or offers Continue), and the code lets the installer
// reserve exactly one update.

const (
	classicApp  = "abacus" // published in the classic series
	proApp      = "ledger" // published in the Pro series
	keySerial   = "HK-1"
	keyCustomer = "Acme"
	machine1    = "machine-1"
)

// classicStart is the server's time when a classic test begins: whole
// seconds, as challenges count them.
var classicStart = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// testClock is the server's clock, moved by the test while the handler's
// goroutines read it.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// classicFixture is a fixture with a classic product (abacus 1.0.0 and
// 2.0.0), a Pro product (ledger 2.0.0), a clock the test moves and a
// hardware key HK-1 licensed for every product (not yet activated).
type classicFixture struct {
	*fixture
	clock *testClock
	key   *hwkey.FileKey
}

func newClassicFixture(t *testing.T) *classicFixture {
	t.Helper()
	clk := &testClock{}
	clk.Set(classicStart)
	f := newFixtureWith(t, func(s *server.Server) { s.Now = clk.Now })
	f.publish(t, classicApp, api.SeriesClassic, "1.0.0", "linux", "amd64")
	f.publish(t, classicApp, api.SeriesClassic, "2.0.0", "linux", "amd64")
	f.publish(t, proApp, api.SeriesPro, "2.0.0", "linux", "amd64")
	c := &classicFixture{fixture: f, clock: clk}
	c.key = c.issue(t, f.inst.Keys.Release, keySerial, nil, time.Time{})
	return c
}

// at sets the server's clock to classicStart+d until the end of t.
func (c *classicFixture) at(t *testing.T, d time.Duration) {
	c.clock.Set(classicStart.Add(d))
	t.Cleanup(func() { c.clock.Set(classicStart) })
}

// issue makes a reference hardware key signed by vendor, issued a day
// before classicStart; a zero expires never expires.
func (c *classicFixture) issue(t *testing.T, vendor ed25519.PrivateKey, serial string, products []string, expires time.Time) *hwkey.FileKey {
	t.Helper()
	data, err := hwkey.Issue(vendor, serial, keyCustomer, products, classicStart.Add(-24*time.Hour), expires)
	if err != nil {
		t.Fatalf("Issue(%s): %v", serial, err)
	}
	key, err := hwkey.ParseFile(data)
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", serial, err)
	}
	return key
}

// challenge asks the server for a fresh challenge.
func (c *classicFixture) challenge(t *testing.T) []byte {
	t.Helper()
	cr := decodeOK[api.ChallengeResponse](t, c.post(t, "/v1/classic/challenges", ""))
	if want := c.clock.Now().Add(server.ChallengeTTL); len(cr.Challenge) == 0 || !cr.ExpiresAt.Equal(want) {
		t.Errorf("challenge %x expires at %v, want one that expires at %v", cr.Challenge, cr.ExpiresAt, want)
	}
	return cr.Challenge
}

// sessionRequest is what the installer sends: key's licence and its
// signature of challenge, for abacus 1.0.0 → 2.0.0 on machine-1.
func (c *classicFixture) sessionRequest(t *testing.T, key hwkey.Key, challenge []byte) api.ClassicSessionRequest {
	t.Helper()
	sig, err := key.Sign(t.Context(), challenge)
	if err != nil {
		t.Fatalf("signing the challenge: %v", err)
	}
	return api.ClassicSessionRequest{
		Licence: key.Envelope(), Challenge: challenge, Signature: sig,
		Product: classicApp, FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: machine1,
	}
}

func (c *classicFixture) openReply(t *testing.T, req api.ClassicSessionRequest) reply {
	t.Helper()
	return c.post(t, "/v1/classic/sessions", mustJSON(t, req))
}

// open opens a session as the installer does: challenge, signature, session.
func (c *classicFixture) open(t *testing.T, key hwkey.Key) api.ClassicSession {
	t.Helper()
	s := decodeOK[api.ClassicSession](t, c.openReply(t, c.sessionRequest(t, key, c.challenge(t))))
	if s.ID == "" || s.State != api.SessionOpen {
		t.Fatalf("session %+v, want an open one with an ID", s)
	}
	return s
}

// code is the Internet code the page of session id shows.
func (c *classicFixture) code(id string) api.InternetCode {
	return api.DeriveInternetCode(c.inst.Keys.CodeSecret, id)
}

// classicRequest reserves abacus 1.0.0 → 2.0.0 on machine-1 with a session
// and an Internet code ("" after Continue).
func classicRequest(session, internetCode, key string) api.ReserveRequest {
	return api.ReserveRequest{
		IdempotencyKey: key,
		Credential:     api.Credential{Session: session, InternetCode: internetCode},
		Product:        classicApp,
		FromVersion:    "1.0.0",
		ToVersion:      "2.0.0",
		MachineID:      machine1,
	}
}

// mustReserveClassic reserves with session and requires a held reservation
// with remaining updates left.
func (c *classicFixture) mustReserveClassic(t *testing.T, session, internetCode, key string, remaining int64) api.ReservationResponse {
	t.Helper()
	rr := decodeOK[api.ReservationResponse](t, c.reserve(t, classicRequest(session, internetCode, key)))
	if rr.Reservation.State != api.StateHeld || rr.Reservation.ID == "" || rr.Remaining != remaining {
		t.Fatalf("reservation %+v, want a held one with an ID and %d remaining", rr, remaining)
	}
	return rr
}

// otherCode is a well-formed Internet code (its check digit right) that is
// not c: the n-th digit-shift of its first digit (n in 1..9).
func otherCode(c api.InternetCode, n int) string {
	b := []byte(c[:api.InternetCodeDigits-1])
	b[0] = '0' + (b[0]-'0'+byte(n))%10
	return api.InternetCode(append(b, api.DammCheckDigit(string(b)))).String()
}

// mistyped is c with its check digit wrong: caught before any attempt counts.
func mistyped(c api.InternetCode) string {
	b := []byte(c)
	last := len(b) - 1
	b[last] = '0' + (b[last]-'0'+1)%10
	return api.InternetCode(b).String()
}

// keyStanding is the counts and ledger length of a hardware key; zero for
// a key that was never activated.
func (c *classicFixture) keyStanding(t *testing.T, serial string) standing {
	t.Helper()
	ent, err := c.inst.Store.Entitlement(t.Context(), store.Credential{HWKeySerial: serial})
	if errors.Is(err, store.ErrUnknownCredential) {
		return standing{}
	} else if err != nil {
		t.Fatalf("Entitlement(%s): %v", serial, err)
	}
	st, err := c.admin.ShowHWKey(t.Context(), serial)
	if err != nil {
		t.Fatalf("ShowHWKey(%s): %v", serial, err)
	}
	ledger, err := c.inst.Store.Ledger(t.Context(), ent.ID)
	if err != nil {
		t.Fatalf("Ledger: %v", err)
	}
	return standing{Counts: st.Counts, ledger: len(ledger)}
}

func (c *classicFixture) wantKeyUnchanged(t *testing.T, serial string, before standing) {
	t.Helper()
	if after := c.keyStanding(t, serial); after != before {
		t.Errorf("hardware key %s changed from %+v to %+v", serial, before, after)
	}
	c.requireClean(t)
}

// stored is the session as the store holds it.
func (c *classicFixture) stored(t *testing.T, id string) store.ClassicSession {
	t.Helper()
	cs, err := c.inst.Store.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("Session(%s): %v", id, err)
	}
	return cs
}

func (c *classicFixture) wantStored(t *testing.T, id, state string, attempts int) {
	t.Helper()
	if cs := c.stored(t, id); cs.State != state || cs.Attempts != attempts {
		t.Errorf("session is %s after %d wrong codes, want %s after %d", cs.State, cs.Attempts, state, attempts)
	}
}

// status is the session as GET /v1/classic/sessions/{id} tells it.
func (c *classicFixture) status(t *testing.T, id string) api.ClassicSession {
	t.Helper()
	return decodeOK[api.ClassicSession](t, c.get(t, "/v1/classic/sessions/"+id))
}

// page fetches the Internet-code page, in lang ("" sends no Accept-Language).
func (c *classicFixture) page(t *testing.T, id, lang string) reply {
	t.Helper()
	if lang == "" {
		return c.get(t, "/classic/"+id)
	}
	return c.get(t, "/classic/"+id, "Accept-Language", lang)
}

var (
	csrfRE         = regexp.MustCompile(`<input type="hidden" name="csrf" value="([0-9a-f]+)">`)
	internetCodeRE = regexp.MustCompile(`<p class="code" id="internet-code" aria-label="([^"]*)">([^<]*)</p>`)
	groupedCodeRE  = regexp.MustCompile(`^[0-9]{3}-[0-9]{3}-[0-9]{3}$`)
	sessionIDRE    = regexp.MustCompile(`^s_[a-z2-7]+$`) // what the server makes
)

// csrf scrapes the Continue form's token from the page of session id.
func (c *classicFixture) csrf(t *testing.T, id string) string {
	t.Helper()
	r := c.page(t, id, "")
	m := csrfRE.FindSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("page of %s has no Continue form: %v", id, r)
	}
	return string(m[1])
}

// pressContinue posts the page's Continue form and does not follow the
// redirect.
func (c *classicFixture) pressContinue(t *testing.T, id string, form url.Values) reply {
	t.Helper()
	client := *c.http
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.url+"/classic/"+id+"/continue", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return reply{status: resp.StatusCode, header: resp.Header}
}

// confirm presses Continue with the page's own token.
func (c *classicFixture) confirm(t *testing.T, id string) {
	t.Helper()
	r := c.pressContinue(t, id, url.Values{"csrf": {c.csrf(t, id)}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/classic/"+id {
		t.Fatalf("Continue answered %d to %q, want 303 to /classic/%s", r.status, r.header.Get("Location"), id)
	}
}

// wantPageHeaders requires an HTML page that cannot be framed, cached or
// made to load anything.
func wantPageHeaders(t *testing.T, r reply) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, part)
		}
	}
}

func TestClassicHappyPath(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)

	s := c.open(t, c.key)
	if !strings.HasPrefix(s.ID, "s_") || s.URL != c.url+"/classic/"+s.ID || s.Remaining == nil || *s.Remaining != 3 ||
		s.Problem != "" || s.Message != "" || !s.ExpiresAt.Equal(classicStart.Add(server.SessionTTL)) {
		t.Fatalf("session %+v, want an open one at %s/classic/<id> with 3 remaining, expiring at %v",
			s, c.url, classicStart.Add(server.SessionTTL))
	}
	if cs := c.stored(t, s.ID); cs.Serial != keySerial || cs.Product != classicApp || cs.FromVersion != "1.0.0" ||
		cs.ToVersion != "2.0.0" || cs.MachineID != machine1 || cs.Attempts != 0 {
		t.Errorf("stored session %+v, want HK-1's for abacus 1.0.0 → 2.0.0 on machine-1", cs)
	}
	c.wantHWKey(t, keySerial, counts(3, 3, 0, 0))

	code := c.code(s.ID)
	first := c.mustReserveClassic(t, s.ID, code.String(), "key-1", 2)
	want := api.Reservation{ID: first.Reservation.ID, State: api.StateHeld, Product: classicApp,
		FromVersion: "1.0.0", ToVersion: "2.0.0", ExpiresAt: classicStart.Add(server.DefaultReservationTTL)}
	if !sameReservation(first.Reservation, want) {
		t.Errorf("reserved %+v, want %+v", first.Reservation, want)
	}
	c.wantHWKey(t, keySerial, counts(3, 2, 1, 0))
	if cs := c.stored(t, s.ID); cs.State != api.SessionUsed || cs.ReservationID != first.Reservation.ID {
		t.Errorf("session is %s for reservation %q, want used for %s", cs.State, cs.ReservationID, first.Reservation.ID)
	}
	before := c.keyStanding(t, keySerial)

	t.Run("repeat with the same key", func(t *testing.T) {
		for _, typed := range []string{code.String(), string(code), strings.ReplaceAll(code.String(), "-", " ")} {
			again := c.mustReserveClassic(t, s.ID, typed, "key-1", 2)
			if !sameReservation(again.Reservation, first.Reservation) {
				t.Errorf("repeat with %q answered %+v, want the first answer %+v", typed, again.Reservation, first.Reservation)
			}
		}
		c.wantKeyUnchanged(t, keySerial, before)
	})
	t.Run("repeat after the session expired", func(t *testing.T) {
		// A retry after a crash may come late: it is still the same answer.
		c.at(t, server.SessionTTL+time.Hour)
		again := c.mustReserveClassic(t, s.ID, code.String(), "key-1", 2)
		if again.Reservation.ID != first.Reservation.ID {
			t.Errorf("late repeat made reservation %s, want %s", again.Reservation.ID, first.Reservation.ID)
		}
		c.wantKeyUnchanged(t, keySerial, before)
	})
	for _, tc := range []struct{ name, internetCode string }{
		{"another key with the code", code.String()},
		{"another key with the session alone", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := wantError(t, c.reserve(t, classicRequest(s.ID, tc.internetCode, "key-2")), http.StatusConflict, api.CodeExpired)
			if !strings.Contains(e.Message, "already used") {
				t.Errorf("message %q does not say the code was already used", e.Message)
			}
			c.wantKeyUnchanged(t, keySerial, before)
			c.wantStored(t, s.ID, api.SessionUsed, 0)
		})
	}
	t.Run("complete", func(t *testing.T) {
		done := decodeOK[api.ReservationResponse](t, c.complete(t, first.Reservation.ID))
		if done.Reservation.State != api.StateConsumed || done.Remaining != 2 {
			t.Errorf("completion answered %+v, want consumed with 2 remaining", done)
		}
		c.wantHWKey(t, keySerial, counts(3, 2, 0, 1))
	})
	t.Run("the next update needs a new session", func(t *testing.T) {
		next := c.open(t, c.key)
		if next.ID == s.ID || next.Remaining == nil || *next.Remaining != 2 {
			t.Fatalf("next session %+v, want a new one with 2 remaining", next)
		}
		if c.code(next.ID) == code {
			t.Errorf("two sessions show the same Internet code %s", code)
		}
		c.mustReserveClassic(t, next.ID, c.code(next.ID).String(), "key-3", 1)
		c.wantHWKey(t, keySerial, counts(3, 1, 1, 1))
	})
}

func TestClassicChallenge(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)
	_, otherVendor, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// HK-1 again, but its licence signed by a vendor this server does not trust.
	foreign := c.issue(t, otherVendor, keySerial, nil, time.Time{})
	// A genuine licence of another key pair.
	twin := c.issue(t, c.inst.Keys.Release, "HK-2", nil, time.Time{})

	used := c.challenge(t)
	decodeOK[api.ClassicSession](t, c.openReply(t, c.sessionRequest(t, c.key, used)))

	flip := func(b []byte, i int) []byte {
		b = slices.Clone(b)
		b[(i+len(b))%len(b)] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name    string
		req     func(t *testing.T) api.ClassicSessionRequest
		status  int
		code    string
		message string // a part of the message
	}{
		{"forged random bytes", func(t *testing.T) api.ClassicSessionRequest {
			return c.sessionRequest(t, c.key, flip(c.challenge(t), 12))
		}, http.StatusBadRequest, api.CodeExpired, "not issued by this server"},
		{"forged issue time", func(t *testing.T) api.ClassicSessionRequest {
			return c.sessionRequest(t, c.key, flip(c.challenge(t), 7))
		}, http.StatusBadRequest, api.CodeExpired, "not issued by this server"},
		{"forged MAC", func(t *testing.T) api.ClassicSessionRequest {
			return c.sessionRequest(t, c.key, flip(c.challenge(t), -1))
		}, http.StatusBadRequest, api.CodeExpired, "not issued by this server"},
		{"made up", func(t *testing.T) api.ClassicSessionRequest {
			return c.sessionRequest(t, c.key, make([]byte, len(used)))
		}, http.StatusBadRequest, api.CodeExpired, "not issued by this server"},
		{"truncated", func(t *testing.T) api.ClassicSessionRequest {
			ch := c.challenge(t)
			return c.sessionRequest(t, c.key, ch[:len(ch)-1])
		}, http.StatusBadRequest, api.CodeExpired, "malformed"},
		{"extended", func(t *testing.T) api.ClassicSessionRequest {
			return c.sessionRequest(t, c.key, append(c.challenge(t), 0))
		}, http.StatusBadRequest, api.CodeExpired, "malformed"},
		{"none", func(t *testing.T) api.ClassicSessionRequest {
			req := c.sessionRequest(t, c.key, c.challenge(t))
			req.Challenge = nil
			return req
		}, http.StatusBadRequest, api.CodeExpired, "malformed"},
		{"expired", func(t *testing.T) api.ClassicSessionRequest {
			ch := c.challenge(t)
			c.at(t, server.ChallengeTTL+time.Second)
			return c.sessionRequest(t, c.key, ch)
		}, http.StatusBadRequest, api.CodeExpired, "expired"},
		{"from the future", func(t *testing.T) api.ClassicSessionRequest {
			ch := c.challenge(t)
			c.at(t, -2*time.Minute)
			return c.sessionRequest(t, c.key, ch)
		}, http.StatusBadRequest, api.CodeExpired, "expired"},
		{"already used for a session", func(t *testing.T) api.ClassicSessionRequest {
			return c.sessionRequest(t, c.key, used)
		}, http.StatusConflict, api.CodeExpired, "already used"},
		{"already used, by another key", func(t *testing.T) api.ClassicSessionRequest {
			return c.sessionRequest(t, twin, used)
		}, http.StatusConflict, api.CodeExpired, "already used"},
		{"licence signed by another vendor", func(t *testing.T) api.ClassicSessionRequest {
			return c.sessionRequest(t, foreign, c.challenge(t))
		}, http.StatusForbidden, api.CodeUnknownCredential, "not valid for this vendor"},
		{"licence altered", func(t *testing.T) api.ClassicSessionRequest {
			req := c.sessionRequest(t, c.key, c.challenge(t))
			req.Licence.Payload = []byte(strings.Replace(string(req.Licence.Payload), `"HK-1"`, `"HK-9"`, 1))
			return req
		}, http.StatusForbidden, api.CodeUnknownCredential, "not valid for this vendor"},
		{"licence unsigned", func(t *testing.T) api.ClassicSessionRequest {
			req := c.sessionRequest(t, c.key, c.challenge(t))
			req.Licence.Signatures = nil
			return req
		}, http.StatusForbidden, api.CodeUnknownCredential, "not valid for this vendor"},
		{"no licence", func(t *testing.T) api.ClassicSessionRequest {
			req := c.sessionRequest(t, c.key, c.challenge(t))
			req.Licence = api.Envelope{}
			return req
		}, http.StatusForbidden, api.CodeUnknownCredential, "not valid for this vendor"},
		// A copied licence without its private key proves nothing.
		{"signed by another key pair", func(t *testing.T) api.ClassicSessionRequest {
			req := c.sessionRequest(t, twin, c.challenge(t))
			req.Licence = c.key.Envelope()
			return req
		}, http.StatusForbidden, api.CodeUnknownCredential, "did not prove"},
		{"signature over another challenge", func(t *testing.T) api.ClassicSessionRequest {
			req := c.sessionRequest(t, c.key, c.challenge(t))
			req.Challenge = c.challenge(t)
			return req
		}, http.StatusForbidden, api.CodeUnknownCredential, "did not prove"},
		{"signature altered", func(t *testing.T) api.ClassicSessionRequest {
			req := c.sessionRequest(t, c.key, c.challenge(t))
			req.Signature = flip(req.Signature, 0)
			return req
		}, http.StatusForbidden, api.CodeUnknownCredential, "did not prove"},
		{"no signature", func(t *testing.T) api.ClassicSessionRequest {
			req := c.sessionRequest(t, c.key, c.challenge(t))
			req.Signature = nil
			return req
		}, http.StatusForbidden, api.CodeUnknownCredential, "did not prove"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.keyStanding(t, keySerial)
			e := wantError(t, c.openReply(t, tc.req(t)), tc.status, tc.code)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			c.wantKeyUnchanged(t, keySerial, before)
		})
	}

	t.Run("signed at the last moment", func(t *testing.T) {
		ch := c.challenge(t)
		c.at(t, server.ChallengeTTL)
		decodeOK[api.ClassicSession](t, c.openReply(t, c.sessionRequest(t, c.key, ch)))
	})
	t.Run("challenge answered with GET", func(t *testing.T) {
		wantError(t, c.get(t, "/v1/classic/challenges"), http.StatusMethodNotAllowed, api.CodeBadRequest)
	})
}

func TestClassicLicence(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)
	release := c.inst.Keys.Release

	for _, tc := range []struct {
		name    string
		key     *hwkey.FileKey
		change  func(*api.ClassicSessionRequest) // nil: abacus 1.0.0 → 2.0.0
		status  int
		code    string
		message string // a part of the message
	}{
		{"licence expired an hour ago", c.issue(t, release, keySerial, nil, classicStart.Add(-time.Hour)), nil,
			http.StatusForbidden, api.CodeExpired, "expired on 2030-06-01 11:00"},
		{"licence expiring this instant", c.issue(t, release, keySerial, nil, classicStart), nil,
			http.StatusForbidden, api.CodeExpired, "ask your vendor to renew it"},
		{"licence for other products", c.issue(t, release, keySerial, []string{"other"}, time.Time{}), nil,
			http.StatusForbidden, api.CodeUnknownCredential, "licensed for other, not for abacus"},
		{"Pro-series product", c.key, func(r *api.ClassicSessionRequest) { r.Product = proApp },
			http.StatusForbidden, api.CodeWrongSeries, "ledger is a Pro-series product"},
		{"unknown product", c.key, func(r *api.ClassicSessionRequest) { r.Product = "nosuch" },
			http.StatusNotFound, api.CodeNotFound, "nosuch"},
		{"product name not valid", c.key, func(r *api.ClassicSessionRequest) { r.Product = "../abacus" },
			http.StatusBadRequest, api.CodeBadRequest, "product"},
		{"to_version not a version", c.key, func(r *api.ClassicSessionRequest) { r.ToVersion = "latest" },
			http.StatusBadRequest, api.CodeBadRequest, "to_version"},
		{"from_version not a version", c.key, func(r *api.ClassicSessionRequest) { r.FromVersion = "1.0" },
			http.StatusBadRequest, api.CodeBadRequest, "from_version"},
		{"no machine_id", c.key, func(r *api.ClassicSessionRequest) { r.MachineID = "" },
			http.StatusBadRequest, api.CodeBadRequest, "machine_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.keyStanding(t, keySerial)
			req := c.sessionRequest(t, tc.key, c.challenge(t))
			if tc.change != nil {
				tc.change(&req)
			}
			e := wantError(t, c.openReply(t, req), tc.status, tc.code)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			c.wantKeyUnchanged(t, keySerial, before)
		})
	}

	for _, tc := range []struct {
		name string
		key  *hwkey.FileKey
	}{
		{"licence valid for another minute", c.issue(t, release, keySerial, nil, classicStart.Add(time.Minute))},
		{"licence naming the product", c.issue(t, release, keySerial, []string{"other", classicApp}, time.Time{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := c.open(t, tc.key)
			if s.Problem != "" || s.Remaining == nil || *s.Remaining != 3 {
				t.Errorf("session %+v, want one without a problem and 3 remaining", s)
			}
		})
	}
}

func TestClassicSessionProblems(t *testing.T) {
	c := newClassicFixture(t)

	t.Run("key not activated", func(t *testing.T) {
		s := c.open(t, c.key)
		if s.Problem != api.CodeInactive || s.Remaining != nil || s.State != api.SessionOpen {
			t.Errorf("session %+v, want an open one with problem %q and no count", s, api.CodeInactive)
		}
		for _, part := range []string{keySerial, "not enabled", "activate"} {
			if !strings.Contains(s.Message, part) {
				t.Errorf("message %q does not say %q", s.Message, part)
			}
		}
		if st := c.status(t, s.ID); st.Problem != api.CodeInactive || st.Message != s.Message {
			t.Errorf("status %+v, want the same problem as at open", st)
		}
		// The code is right, but there is nothing to reserve from.
		e := wantError(t, c.reserve(t, classicRequest(s.ID, c.code(s.ID).String(), "inactive")), http.StatusForbidden, api.CodeInactive)
		if !strings.Contains(e.Message, "site access is not enabled for hardware key "+keySerial) {
			t.Errorf("message %q", e.Message)
		}
		c.wantKeyUnchanged(t, keySerial, standing{})
		c.wantStored(t, s.ID, api.SessionOpen, 0)
	})

	t.Run("no update left", func(t *testing.T) {
		const serial = "HK-ONE"
		key := c.issue(t, c.inst.Keys.Release, serial, nil, time.Time{})
		c.activateClassic(t, keyCustomer, serial, 1)
		a := c.open(t, key)
		held := c.mustReserveClassic(t, a.ID, c.code(a.ID).String(), "the-only-one", 0)

		b := c.open(t, key)
		if b.Problem != api.CodeExhausted || b.Remaining == nil || *b.Remaining != 0 {
			t.Errorf("session %+v, want problem %q with 0 remaining", b, api.CodeExhausted)
		}
		for _, part := range []string{serial, "no paid updates remain", "buy more"} {
			if !strings.Contains(b.Message, part) {
				t.Errorf("message %q does not say %q", b.Message, part)
			}
		}
		before := c.keyStanding(t, serial)
		wantError(t, c.reserve(t, classicRequest(b.ID, c.code(b.ID).String(), "one-too-many")), http.StatusConflict, api.CodeExhausted)
		c.wantKeyUnchanged(t, serial, before)
		c.wantStored(t, b.ID, api.SessionOpen, 0)

		// The first update failed and gave its unit back: the open session can take it.
		decodeOK[api.ReservationResponse](t, c.release(t, held.Reservation.ID))
		if st := c.status(t, b.ID); st.Problem != "" || st.Remaining == nil || *st.Remaining != 1 {
			t.Errorf("status after release %+v, want no problem and 1 remaining", st)
		}
		c.mustReserveClassic(t, b.ID, c.code(b.ID).String(), "one-too-many", 0)
		c.wantHWKey(t, serial, counts(1, 0, 1, 0))
	})
}

func TestClassicReserveRefused(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)
	// A published version the sessions were not opened for.
	c.publish(t, classicApp, api.SeriesClassic, "3.0.0", "linux", "amd64")

	with := func(change func(*api.ReserveRequest)) func(t *testing.T, id string) api.ReserveRequest {
		return func(t *testing.T, id string) api.ReserveRequest {
			req := classicRequest(id, c.code(id).String(), "refused")
			change(&req)
			return req
		}
	}
	for _, tc := range []struct {
		name     string
		req      func(t *testing.T, id string) api.ReserveRequest // id: a fresh open session
		status   int
		code     string
		message  string // a part of the message
		attempts int    // wrong codes counted on the session
	}{
		{"another computer", with(func(r *api.ReserveRequest) { r.MachineID = "machine-2" }),
			http.StatusForbidden, api.CodeUnknownCredential, "another computer", 0},
		{"another product", with(func(r *api.ReserveRequest) { r.Product = proApp }),
			http.StatusForbidden, api.CodeUnknownCredential, "another update", 0},
		{"another to_version", with(func(r *api.ReserveRequest) { r.ToVersion = "3.0.0" }),
			http.StatusForbidden, api.CodeUnknownCredential, "another update", 0},
		{"another from_version", with(func(r *api.ReserveRequest) { r.FromVersion = "" }),
			http.StatusForbidden, api.CodeUnknownCredential, "another update", 0},
		{"wrong code", with(func(r *api.ReserveRequest) { r.Credential.InternetCode = otherCode(c.code(r.Credential.Session), 1) }),
			http.StatusForbidden, api.CodeUnknownCredential, fmt.Sprintf("(%d attempts left)", server.MaxInternetCodeAttempts-1), 1},
		{"another session's code", func(t *testing.T, id string) api.ReserveRequest {
			other := c.open(t, c.key)
			return classicRequest(id, c.code(other.ID).String(), "refused")
		}, http.StatusForbidden, api.CodeUnknownCredential, "attempts left", 1},
		{"check digit wrong", with(func(r *api.ReserveRequest) { r.Credential.InternetCode = mistyped(c.code(r.Credential.Session)) }),
			http.StatusBadRequest, api.CodeInvalidCode, "check digit", 0},
		{"a digit short", with(func(r *api.ReserveRequest) { r.Credential.InternetCode = r.Credential.InternetCode[1:] }),
			http.StatusBadRequest, api.CodeInvalidCode, "has 8 digits", 0},
		{"a letter", with(func(r *api.ReserveRequest) { r.Credential.InternetCode = "O" + r.Credential.InternetCode[1:] }),
			http.StatusBadRequest, api.CodeInvalidCode, "only digits", 0},
		{"the Pro code format", with(func(r *api.ReserveRequest) { r.Credential.InternetCode = "12345-67890-12345-67890-12345" }),
			http.StatusBadRequest, api.CodeInvalidCode, "three groups of three", 0},
		{"session alone without Continue", with(func(r *api.ReserveRequest) { r.Credential.InternetCode = "" }),
			http.StatusBadRequest, api.CodeInvalidCode, "press Continue", 0},
		{"unknown session", with(func(r *api.ReserveRequest) {
			r.Credential = api.Credential{Session: "s_nosuch", InternetCode: c.code("s_nosuch").String()}
		}), http.StatusForbidden, api.CodeUnknownCredential, "not known", 0},
		{"session id not valid", with(func(r *api.ReserveRequest) { r.Credential.Session = "../" + r.Credential.Session }),
			http.StatusBadRequest, api.CodeBadRequest, "session", 0},
		{"Internet code without a session", with(func(r *api.ReserveRequest) { r.Credential.Session = "" }),
			http.StatusBadRequest, api.CodeBadRequest, "credential is required", 0},
		{"update code and session", with(func(r *api.ReserveRequest) {
			r.Credential = api.Credential{Code: "12345-67890-12345-67890-12345", Session: r.Credential.Session}
		}), http.StatusBadRequest, api.CodeBadRequest, "credential is required", 0},
		{"update code, session and Internet code", with(func(r *api.ReserveRequest) { r.Credential.Code = "12345-67890-12345-67890-12345" }),
			http.StatusBadRequest, api.CodeBadRequest, "credential is required", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := c.open(t, c.key)
			before := c.keyStanding(t, keySerial)
			e := wantError(t, c.reserve(t, tc.req(t, s.ID)), tc.status, tc.code)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			c.wantKeyUnchanged(t, keySerial, before)
			c.wantStored(t, s.ID, api.SessionOpen, tc.attempts)
			// Nothing was spent: the session still gives its update.
			c.mustReserveClassic(t, s.ID, c.code(s.ID).String(), "then-"+s.ID, before.Remaining-1)
			decodeOK[api.ReservationResponse](t, c.release(t, c.stored(t, s.ID).ReservationID))
		})
	}
}

func TestClassicInternetCodeLock(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)
	s := c.open(t, c.key)
	code := c.code(s.ID)
	csrf := c.csrf(t, s.ID)
	before := c.keyStanding(t, keySerial)

	for i := 1; i <= server.MaxInternetCodeAttempts; i++ {
		e := wantError(t, c.reserve(t, classicRequest(s.ID, otherCode(code, i), "guess")), http.StatusForbidden, api.CodeUnknownCredential)
		want := fmt.Sprintf("(%d attempts left)", server.MaxInternetCodeAttempts-i)
		if server.MaxInternetCodeAttempts-i == 1 {
			want = "(1 attempt left)"
		}
		if i == server.MaxInternetCodeAttempts {
			want = "too many wrong codes"
		}
		if !strings.Contains(e.Message, want) {
			t.Errorf("wrong code %d: message %q does not say %q", i, e.Message, want)
		}
	}
	c.wantStored(t, s.ID, api.SessionLocked, server.MaxInternetCodeAttempts)

	for _, tc := range []struct{ name, internetCode string }{
		{"the right code", code.String()},
		{"another wrong code", otherCode(code, 7)},
		{"a mistyped code", mistyped(code)},
		{"the session alone", ""},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			e := wantError(t, c.reserve(t, classicRequest(s.ID, tc.internetCode, "after-lock")), http.StatusForbidden, api.CodeExpired)
			if !strings.Contains(e.Message, "too many wrong") {
				t.Errorf("message %q does not say too many wrong codes were typed", e.Message)
			}
			c.wantStored(t, s.ID, api.SessionLocked, server.MaxInternetCodeAttempts)
			c.wantKeyUnchanged(t, keySerial, before)
		})
	}
	t.Run("Continue does not unlock", func(t *testing.T) {
		r := c.pressContinue(t, s.ID, url.Values{"csrf": {csrf}})
		if r.status != http.StatusSeeOther {
			t.Errorf("Continue answered %d, want 303 back to the page", r.status)
		}
		c.wantStored(t, s.ID, api.SessionLocked, server.MaxInternetCodeAttempts)
		wantError(t, c.reserve(t, classicRequest(s.ID, "", "after-continue")), http.StatusForbidden, api.CodeExpired)
		c.wantKeyUnchanged(t, keySerial, before)
	})
	t.Run("status says locked", func(t *testing.T) {
		if st := c.status(t, s.ID); st.State != api.SessionLocked {
			t.Errorf("status %+v, want locked", st)
		}
	})
	t.Run("the right code at the last attempt", func(t *testing.T) {
		other := c.open(t, c.key)
		oc := c.code(other.ID)
		for i := 1; i < server.MaxInternetCodeAttempts; i++ {
			wantError(t, c.reserve(t, classicRequest(other.ID, otherCode(oc, i), "guess-2")), http.StatusForbidden, api.CodeUnknownCredential)
		}
		c.mustReserveClassic(t, other.ID, oc.String(), "last-chance", 2)
		c.wantStored(t, other.ID, api.SessionUsed, server.MaxInternetCodeAttempts-1)
	})
}

func TestClassicSessionExpiry(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)

	t.Run("a second before", func(t *testing.T) {
		s := c.open(t, c.key)
		c.at(t, server.SessionTTL-time.Second)
		c.mustReserveClassic(t, s.ID, c.code(s.ID).String(), "in-time", 2)
	})
	t.Run("at expiry", func(t *testing.T) {
		s := c.open(t, c.key)
		code := c.code(s.ID)
		c.at(t, server.SessionTTL)
		before := c.keyStanding(t, keySerial)
		for _, tc := range []struct{ name, internetCode string }{
			{"right code", code.String()},
			{"wrong code", otherCode(code, 1)},
			{"session alone", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := wantError(t, c.reserve(t, classicRequest(s.ID, tc.internetCode, "late")), http.StatusForbidden, api.CodeExpired)
				if !strings.Contains(e.Message, "15 minutes") {
					t.Errorf("message %q does not say codes are valid for 15 minutes", e.Message)
				}
				c.wantKeyUnchanged(t, keySerial, before)
				c.wantStored(t, s.ID, api.SessionOpen, 0) // a late code is no guess
			})
		}
		if st := c.status(t, s.ID); st.State != api.SessionExpired {
			t.Errorf("status %+v, want expired", st)
		}
	})
	t.Run("confirmed, then expired", func(t *testing.T) {
		s := c.open(t, c.key)
		c.confirm(t, s.ID)
		c.at(t, server.SessionTTL+time.Minute)
		before := c.keyStanding(t, keySerial)
		wantError(t, c.reserve(t, classicRequest(s.ID, "", "late-confirmed")), http.StatusForbidden, api.CodeExpired)
		c.wantKeyUnchanged(t, keySerial, before)
		if st := c.status(t, s.ID); st.State != api.SessionExpired {
			t.Errorf("status %+v, want expired", st)
		}
	})
}

func TestClassicSessionStatus(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)
	s := c.open(t, c.key)

	steps := []struct {
		name      string
		do        func(t *testing.T)
		state     string
		remaining int64
	}{
		{"opened", func(*testing.T) {}, api.SessionOpen, 3},
		{"after Continue", func(t *testing.T) { c.confirm(t, s.ID) }, api.SessionConfirmed, 3},
		{"after reserve", func(t *testing.T) { c.mustReserveClassic(t, s.ID, "", "continued", 2) }, api.SessionUsed, 2},
		{"long after", func(t *testing.T) { c.at(t, 24*time.Hour) }, api.SessionUsed, 2},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.do(t)
			r := c.get(t, "/v1/classic/sessions/"+s.ID)
			st := decodeOK[api.ClassicSession](t, r)
			if st.ID != s.ID || st.URL != s.URL || st.State != step.state || st.Remaining == nil || *st.Remaining != step.remaining ||
				st.Problem != "" || !st.ExpiresAt.Equal(s.ExpiresAt) {
				t.Errorf("status %+v, want %s with %d remaining", st, step.state, step.remaining)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store: the installer polls it", cc)
			}
		})
	}
	for _, tc := range []struct {
		name, id string
		status   int
		code     string
	}{
		{"unknown", "s_nosuch", http.StatusNotFound, api.CodeNotFound},
		{"another case", strings.ToUpper(s.ID), http.StatusNotFound, api.CodeNotFound},
		{"not a name", "a%20b", http.StatusBadRequest, api.CodeBadRequest},
		{"too long", strings.Repeat("s", 129), http.StatusBadRequest, api.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, c.get(t, "/v1/classic/sessions/"+tc.id), tc.status, tc.code)
		})
	}
}

// The page's English texts (server/page.go) a test looks for.
const (
	enHeading      = "Internet code for your update"
	enNotFound     = "This link is not valid."
	enNotFoundDo   = "Start the update again in the installer; it opens a new page."
	enExpired      = "This page has expired."
	enExpiredDo    = "Internet codes are valid for 15 minutes. Start the update again in the installer to get a new code."
	enUsed         = "This Internet code has already been used."
	enUsedDo       = "The update is continuing in the installer. To update again, start the installer again."
	enLocked       = "Too many wrong codes were typed."
	enLockedDo     = "Start the update again in the installer to get a new code."
	enNotEnabled   = "Site access is not enabled for this hardware key."
	enNotEnabledDo = "Ask your vendor or regional distributor to activate updates for this key, then start the update again."
	enExhausted    = "No paid updates remain for this hardware key."
	enExhaustedDo  = "Buy more updates from your vendor or regional distributor, then start the update again."
	enContinued    = "Done: the installer continues by itself. You can close this page."
	bgHeading      = "Интернет код за вашето обновяване"
	bgContinue     = "Продължи обновяването"
	bgExpired      = "Валидността на тази страница изтече."
)

func TestClassicPage(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)
	s := c.open(t, c.key)
	code := c.code(s.ID)
	before := c.keyStanding(t, keySerial)

	for _, tc := range []struct {
		name, acceptLanguage string
		lang, heading, label string
	}{
		{"no Accept-Language", "", "en", enHeading, "Internet code"},
		{"English", "en-US,en;q=0.9", "en", enHeading, "Internet code"},
		{"Bulgarian", "bg", "bg", bgHeading, "Интернет код"},
		{"Bulgarian of Bulgaria", "bg-BG,bg;q=0.9,en;q=0.5", "bg", bgHeading, "Интернет код"},
		{"French", "fr", "en", enHeading, "Internet code"},
		{"French, then Bulgarian", "fr-FR,fr;q=0.9,bg;q=0.5", "bg", bgHeading, "Интернет код"},
		{"not a language list", ";;;q=x", "en", enHeading, "Internet code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.page(t, s.ID, tc.acceptLanguage)
			if r.status != http.StatusOK {
				t.Fatalf("page answered %v, want 200", r)
			}
			wantPageHeaders(t, r)
			body := string(r.body)
			if !strings.Contains(body, `<html lang="`+tc.lang+`">`) || r.header.Get("Content-Language") != tc.lang {
				t.Errorf("page is not in %q (Content-Language %q)", tc.lang, r.header.Get("Content-Language"))
			}
			if !strings.Contains(body, tc.heading) {
				t.Errorf("page lacks its heading %q", tc.heading)
			}
			m := internetCodeRE.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("page has no id=\"internet-code\" element:\n%s", body)
			}
			if !groupedCodeRE.MatchString(m[2]) || m[2] != code.String() {
				t.Errorf("page shows code %q, want %s grouped as ###-###-###", m[2], code)
			}
			// Screen readers read the digits one by one.
			if spoken := tc.label + ": " + strings.Join(strings.Split(string(code), ""), " "); m[1] != spoken {
				t.Errorf("aria-label %q, want %q", m[1], spoken)
			}
			for _, part := range []string{`id="remaining">3<`, ">" + classicApp + "<", ">1.0.0<", ">2.0.0<", ">" + keySerial + "<",
				`action="/classic/` + s.ID + `/continue"`} {
				if !strings.Contains(body, part) {
					t.Errorf("page lacks %q", part)
				}
			}
			if strings.Contains(body, `id="problem"`) {
				t.Error("page of an open session shows a problem")
			}
			if tc.lang == "bg" && !strings.Contains(body, bgContinue) {
				t.Errorf("Bulgarian page lacks %q", bgContinue)
			}
			if tc.lang == "en" && strings.ContainsFunc(body, func(r rune) bool { return r >= 'А' && r <= 'я' }) {
				t.Error("English page has Cyrillic text")
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		r := c.do(t, http.MethodHead, "/classic/"+s.ID, nil)
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Errorf("HEAD answered %v, want 200 without a body", r)
		}
	})
	t.Run("looking changes nothing", func(t *testing.T) {
		c.wantKeyUnchanged(t, keySerial, before)
		c.wantStored(t, s.ID, api.SessionOpen, 0)
	})

	// Sessions that cannot give a code, and the page that says why.
	inactive := c.issue(t, c.inst.Keys.Release, "HK-OFF", nil, time.Time{})
	spent := c.issue(t, c.inst.Keys.Release, "HK-SPENT", nil, time.Time{})
	c.activateClassic(t, keyCustomer, "HK-SPENT", 1)
	for _, tc := range []struct {
		name            string
		session         func(t *testing.T) string // the session's id
		lang            string
		status          int
		problem, remedy string
	}{
		{"unknown session", func(*testing.T) string { return "s_nosuch" }, "", http.StatusNotFound, enNotFound, enNotFoundDo},
		{"id not a name", func(*testing.T) string { return "a%20b" }, "", http.StatusNotFound, enNotFound, enNotFoundDo},
		{"used", func(t *testing.T) string {
			id := c.open(t, c.key).ID
			c.mustReserveClassic(t, id, c.code(id).String(), "page-used", 2)
			return id
		}, "", http.StatusOK, enUsed, enUsedDo},
		{"expired", func(t *testing.T) string {
			id := c.open(t, c.key).ID
			c.at(t, server.SessionTTL)
			return id
		}, "", http.StatusOK, enExpired, enExpiredDo},
		{"expired, in Bulgarian", func(t *testing.T) string {
			id := c.open(t, c.key).ID
			c.at(t, server.SessionTTL)
			return id
		}, "bg", http.StatusOK, bgExpired, ""},
		{"locked", func(t *testing.T) string {
			id := c.open(t, c.key).ID
			for i := 1; i <= server.MaxInternetCodeAttempts; i++ {
				c.reserve(t, classicRequest(id, otherCode(c.code(id), i), "page-locked"))
			}
			c.wantStored(t, id, api.SessionLocked, server.MaxInternetCodeAttempts)
			return id
		}, "", http.StatusOK, enLocked, enLockedDo},
		{"key not activated", func(t *testing.T) string { return c.open(t, inactive).ID }, "", http.StatusOK, enNotEnabled, enNotEnabledDo},
		{"no update left", func(t *testing.T) string {
			id := c.open(t, spent).ID
			c.mustReserveClassic(t, id, c.code(id).String(), "page-spent", 0)
			return c.open(t, spent).ID
		}, "", http.StatusOK, enExhausted, enExhaustedDo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.session(t)
			r := c.page(t, id, tc.lang)
			if r.status != tc.status {
				t.Errorf("page answered %v, want %d", r, tc.status)
			}
			wantPageHeaders(t, r)
			body := string(r.body)
			if !strings.Contains(body, `id="problem"`) {
				t.Errorf("page has no id=\"problem\" element:\n%s", body)
			}
			for _, text := range []string{tc.problem, tc.remedy} {
				if !strings.Contains(body, html.EscapeString(text)) {
					t.Errorf("page lacks %q", text)
				}
			}
			if strings.Contains(body, `id="internet-code"`) || strings.Contains(body, `name="csrf"`) {
				t.Error("a page that cannot give a code shows one, or its Continue form")
			}
			if sessionIDRE.MatchString(id) && strings.Contains(body, c.code(id).String()) {
				t.Error("the page shows the session's Internet code")
			}
		})
	}
}

func TestClassicContinue(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 3)
	s := c.open(t, c.key)
	csrf := c.csrf(t, s.ID)
	other := c.open(t, c.key)
	otherCSRF := c.csrf(t, other.ID)
	if csrf == otherCSRF {
		t.Fatal("two sessions share a Continue token")
	}

	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"no token", url.Values{}},
		{"empty token", url.Values{"csrf": {""}}},
		{"altered token", url.Values{"csrf": {strings.Repeat("0", len(csrf))}}},
		{"token cut short", url.Values{"csrf": {csrf[:len(csrf)-2]}}},
		{"token of another session", url.Values{"csrf": {otherCSRF}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := c.pressContinue(t, s.ID, tc.form); r.status != http.StatusForbidden {
				t.Errorf("Continue answered %d, want 403", r.status)
			}
			c.wantStored(t, s.ID, api.SessionOpen, 0)
		})
	}
	t.Run("GET is not allowed", func(t *testing.T) {
		wantError(t, c.get(t, "/classic/"+s.ID+"/continue?csrf="+csrf), http.StatusMethodNotAllowed, api.CodeBadRequest)
		c.wantStored(t, s.ID, api.SessionOpen, 0)
	})

	r := c.pressContinue(t, s.ID, url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/classic/"+s.ID {
		t.Fatalf("Continue answered %d to %q, want 303 to /classic/%s", r.status, r.header.Get("Location"), s.ID)
	}
	c.wantStored(t, s.ID, api.SessionConfirmed, 0)
	t.Run("the page says the installer goes on", func(t *testing.T) {
		body := string(c.page(t, s.ID, "").body)
		if !strings.Contains(body, `id="continued"`) || !strings.Contains(body, enContinued) || strings.Contains(body, `name="csrf"`) {
			t.Errorf("page after Continue does not say the installer continues, or still offers Continue:\n%s", body)
		}
		if !strings.Contains(body, c.code(s.ID).String()) {
			t.Error("page after Continue no longer shows the code")
		}
	})
	t.Run("pressed twice", func(t *testing.T) {
		if r := c.pressContinue(t, s.ID, url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
			t.Errorf("Continue answered %d, want 303 back to the page", r.status)
		}
		c.wantStored(t, s.ID, api.SessionConfirmed, 0)
	})
	before := c.keyStanding(t, keySerial)
	t.Run("another machine cannot use it", func(t *testing.T) {
		req := classicRequest(s.ID, "", "elsewhere")
		req.MachineID = "machine-2"
		wantError(t, c.reserve(t, req), http.StatusForbidden, api.CodeUnknownCredential)
		c.wantKeyUnchanged(t, keySerial, before)
	})

	rr := c.mustReserveClassic(t, s.ID, "", "continued", 2)
	c.wantStored(t, s.ID, api.SessionUsed, 0)
	c.wantHWKey(t, keySerial, counts(3, 2, 1, 0))
	before = c.keyStanding(t, keySerial)

	t.Run("on a used session", func(t *testing.T) {
		if r := c.pressContinue(t, s.ID, url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
			t.Errorf("Continue answered %d, want 303 back to the page", r.status)
		}
		c.wantStored(t, s.ID, api.SessionUsed, 0)
		wantError(t, c.reserve(t, classicRequest(s.ID, "", "continued-again")), http.StatusConflict, api.CodeExpired)
		if again := c.mustReserveClassic(t, s.ID, "", "continued", 2); again.Reservation.ID != rr.Reservation.ID {
			t.Errorf("repeat made reservation %s, want %s", again.Reservation.ID, rr.Reservation.ID)
		}
		c.wantKeyUnchanged(t, keySerial, before)
	})
	t.Run("on an expired session", func(t *testing.T) {
		c.at(t, server.SessionTTL)
		r := c.pressContinue(t, other.ID, url.Values{"csrf": {otherCSRF}})
		if r.status != http.StatusSeeOther {
			t.Errorf("Continue answered %d, want 303 back to the page", r.status)
		}
		c.wantStored(t, other.ID, api.SessionOpen, 0)
		wantError(t, c.reserve(t, classicRequest(other.ID, "", "expired-continue")), http.StatusForbidden, api.CodeExpired)
		c.wantKeyUnchanged(t, keySerial, before)
	})
}

func TestClassicConcurrency(t *testing.T) {
	c := newClassicFixture(t)
	c.activateClassic(t, keyCustomer, keySerial, 10)
	const n = 8

	// reserveAll sends n reserves at once on session, the i-th with the
	// Internet code and idempotency key the functions give.
	reserveAll := func(t *testing.T, session string, internetCode func(i int) string, key func(i int) string) []reply {
		bodies := make([]string, n)
		for i := range n {
			bodies[i] = mustJSON(t, classicRequest(session, internetCode(i), key(i)))
		}
		return c.parallel(t, n, func(i int) (string, string) { return "/v1/reservations", bodies[i] })
	}
	// wantOneReservation requires exactly one held reservation from replies
	// and the others refused because the session was used.
	wantOneReservation := func(t *testing.T, session string, replies []reply, before standing) {
		t.Helper()
		var won []string
		for _, r := range replies {
			if r.status == http.StatusOK {
				won = append(won, decodeOK[api.ReservationResponse](t, r).Reservation.ID)
				continue
			}
			wantError(t, r, http.StatusConflict, api.CodeExpired)
		}
		if len(won) != 1 {
			t.Fatalf("%d reserves succeeded on one session (statuses %v), want exactly one", len(won), statuses(replies))
		}
		if cs := c.stored(t, session); cs.State != api.SessionUsed || cs.ReservationID != won[0] {
			t.Errorf("session is %s for %q, want used for %s", cs.State, cs.ReservationID, won[0])
		}
		after := c.keyStanding(t, keySerial)
		want := before.Counts
		want.Remaining--
		want.Held++
		if after.Counts != want || after.ledger != before.ledger+1 {
			t.Errorf("hardware key %+v, want %+v and one more ledger row than %d", after, want, before.ledger)
		}
	}

	t.Run("one session, one reservation", func(t *testing.T) {
		s := c.open(t, c.key)
		code := c.code(s.ID).String()
		before := c.keyStanding(t, keySerial)
		replies := reserveAll(t, s.ID, func(int) string { return code }, func(i int) string { return fmt.Sprintf("racer-%d", i) })
		wantOneReservation(t, s.ID, replies, before)
	})
	t.Run("one session, one reservation, after Continue", func(t *testing.T) {
		s := c.open(t, c.key)
		c.confirm(t, s.ID)
		before := c.keyStanding(t, keySerial)
		replies := reserveAll(t, s.ID, func(int) string { return "" }, func(i int) string { return fmt.Sprintf("continued-racer-%d", i) })
		wantOneReservation(t, s.ID, replies, before)
	})
	t.Run("one key, one answer", func(t *testing.T) {
		s := c.open(t, c.key)
		code := c.code(s.ID).String()
		before := c.keyStanding(t, keySerial)
		replies := reserveAll(t, s.ID, func(int) string { return code }, func(int) string { return "double-click" })
		ids := map[string]bool{}
		for _, r := range replies {
			ids[decodeOK[api.ReservationResponse](t, r).Reservation.ID] = true
		}
		if len(ids) != 1 {
			t.Errorf("one idempotency key made %d reservations", len(ids))
		}
		if after := c.keyStanding(t, keySerial); after.Held != before.Held+1 || after.ledger != before.ledger+1 {
			t.Errorf("hardware key %+v, want one more held than %+v", after, before)
		}
	})
	t.Run("wrong codes are counted exactly", func(t *testing.T) {
		s := c.open(t, c.key)
		code := c.code(s.ID)
		before := c.keyStanding(t, keySerial)
		replies := reserveAll(t, s.ID, func(i int) string { return otherCode(code, 1+i%9) }, func(i int) string { return fmt.Sprintf("guesser-%d", i) })
		var left []int
		for _, r := range replies {
			e := wantError(t, r, http.StatusForbidden, "")
			if e.Code != api.CodeUnknownCredential && e.Code != api.CodeExpired {
				t.Errorf("error code %q, want %q (a counted guess) or %q (already locked)", e.Code, api.CodeUnknownCredential, api.CodeExpired)
			}
			var k int
			if _, err := fmt.Sscanf(e.Message[strings.LastIndex(e.Message, "(")+1:], "%d attempt", &k); err == nil {
				left = append(left, k)
				continue
			}
			// Counted as the last attempt, or refused as already locked.
			if !strings.Contains(e.Message, "too many wrong") {
				t.Errorf("reply %q says neither how many attempts are left nor that the session is locked", e.Message)
			}
		}
		slices.Sort(left)
		var want []int
		for k := 1; k < server.MaxInternetCodeAttempts; k++ {
			want = append(want, k)
		}
		if !slices.Equal(left, want) {
			t.Errorf("replies told %v attempts left, want each of %v once", left, want)
		}
		c.wantStored(t, s.ID, api.SessionLocked, server.MaxInternetCodeAttempts)
		wantError(t, c.reserve(t, classicRequest(s.ID, code.String(), "too-late")), http.StatusForbidden, api.CodeExpired)
		c.wantKeyUnchanged(t, keySerial, before)
	})
}
