package server_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
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
