package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/console"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// site is the admin listener on loopback with a customer of each of two
// distributors and accounts of every role, their passwords known.
type site struct {
	t         *testing.T
	adm       *admin.Admin
	url       string
	passwords map[string]string
	ids       map[string]int64
	roles     map[string][2]string // login → role, distributor
}

// password is login's password, its account made on first use: an
// argon2id hash is costly under the race detector, and most tests sign
// in one or two of the four.
func (s *site) password(login string) string {
	s.t.Helper()
	if pw, ok := s.passwords[login]; ok {
		return pw
	}
	r := s.roles[login]
	// Straight into the store with one hash for all: argon2id is costly
	// under -race (the console's own account changes are tested apart).
	acc := store.StaffAccount{Login: login, Role: r[0], Distributor: r[1], PasswordHash: sharedHash(s.t), CreatedAt: time.Now()}
	if err := s.adm.Store.CreateStaff(s.t.Context(), acc, store.Actor{Name: "local:test"}); err != nil {
		s.t.Fatal(err)
	}
	s.passwords[login] = sharedPassword
	return sharedPassword
}

const sharedPassword = "the staff's shared test password"

// sharedHash is sharedPassword's hash, made once for the test binary.
var sharedHash = func() func(testing.TB) string {
	var once sync.Once
	var hash string
	var err error
	return func(t testing.TB) string {
		once.Do(func() { hash, err = staff.HashPassword(sharedPassword) })
		if err != nil {
			t.Fatal(err)
		}
		return hash
	}
}()

func newSite(t *testing.T) *site {
	t.Helper()
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	s := &site{t: t, adm: admin.New(inst), passwords: map[string]string{}, ids: map[string]int64{}}
	s.roles = map[string][2]string{"boss": {"admin", ""}, "maria": {"office", ""}, "plovdiv": {"distributor", "Пловдив Софт"}, "help": {"support", ""}}
	ctx, local := t.Context(), admin.Local("test")
	for _, d := range []string{"Пловдив Софт", "Варна Сис"} {
		if err := s.adm.AddDistributor(ctx, local, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []admin.ActivateRequest{
		{Customer: "ЕТ Иванов", Series: api.SeriesPro, Updates: 2, Distributor: "Пловдив Софт"},
		{Customer: "Варна ООД", Series: api.SeriesClassic, HWKey: "HK-V1", Updates: 2, Distributor: "Варна Сис"},
	} {
		out, err := s.adm.Activate(ctx, local, a)
		if err != nil {
			t.Fatal(err)
		}
		s.ids[a.Customer] = out.EntitlementID
	}
	proxies, _ := staff.ParseProxies([]string{"127.0.0.1"})
	ts := httptest.NewServer(console.Site(s.adm, proxies, staff.DefaultRequestLimit, nil, false))
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

// browser is a client that keeps the console's cookies by hand: Go's
// cookie jar sends Secure cookies over HTTPS only, and the test server is
// plain HTTP on loopback, where browsers do send them.
type browser struct {
	s       *site
	cookies map[string]string
	lang    string
}

func (s *site) browser() *browser { return &browser{s: s, cookies: map[string]string{}, lang: "en"} }

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, header ...string) page {
	b.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.s.t.Context(), method, b.s.url+path, body)
	if err != nil {
		b.s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", b.lang)
	for name, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if !c.Secure || !c.HttpOnly {
			b.s.t.Errorf("cookie %s is not Secure and HttpOnly", c.Name)
		}
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	data, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hidden is a page's hidden form fields (the first form's, for csrf).
func (p page) hidden() url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		v.Add(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&amp;", "&", "&#39;", "'", "&#34;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
}

// signIn signs login in and returns its browser on the start page.
func (s *site) signIn(login string) *browser {
	s.t.Helper()
	b := s.browser()
	form := b.do("GET", "/login", nil)
	p := b.do("POST", "/login", url.Values{"csrf": {form.hidden().Get("csrf")}, "login": {login}, "password": {s.password(login)}, "next": {"/"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/" {
		s.t.Fatalf("signing in %s: %d %s", login, p.status, p.body)
	}
	return b
}

// csrf is the session's CSRF token, read off the start page.
func (b *browser) csrf() string {
	b.s.t.Helper()
	return b.do("GET", "/", nil).hidden().Get("csrf")
}

func (s *site) remaining(customer string) int64 {
	s.t.Helper()
	c, err := s.adm.Entitlement(s.t.Context(), admin.Local("test"), s.ids[customer])
	if err != nil {
		s.t.Fatal(err)
	}
	return c.Remaining
}

func TestEveryPageInEveryLanguage(t *testing.T) {
	s := newSite(t)
	b := s.signIn("boss")
	id := s.ids["ЕТ Иванов"]
	for _, lang := range []string{"bg", "en"} {
		b.lang = lang
		for _, path := range []string{"/", "/?q=иванов", "/?all=1", "/customers/" + url.PathEscape("ЕТ Иванов"), "/activate",
			fmt.Sprintf("/entitlements/%d/add", id), fmt.Sprintf("/entitlements/%d/suspend", id), fmt.Sprintf("/entitlements/%d/reissue", id),
			fmt.Sprintf("/entitlements/%d/correct", id), fmt.Sprintf("/entitlements/%d/replace-key", s.ids["Варна ООД"]),
			"/audit", "/audit?customer=x&from=2026-01-01&to=2026-12-31", "/releases", "/releases?product=ledger", "/staff", "/account", "/nowhere"} {
			p := b.do("GET", path, nil)
			want := http.StatusOK
			if path == "/nowhere" {
				want = http.StatusNotFound
			}
			if p.status != want || strings.Contains(p.body, "MISSING:") || !strings.Contains(p.body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: %d, missing phrases or language: %.300s", lang, path, p.status, p.body)
			}
			if lang == "bg" && strings.Contains(p.body, ">Customers<") {
				t.Errorf("%s is in English for a Bulgarian reader", path)
			}
		}
	}
}

// TestChangeIsShownThenMadeOnce: the preview changes nothing; the
// confirmation makes the change; confirming again (a double click, Back)
// adds nothing more.
func TestChangeIsShownThenMadeOnce(t *testing.T) {
	s := newSite(t)
	b := s.signIn("maria")
	form := url.Values{"csrf": {b.csrf()}, "action": {"add"}, "id": {fmt.Sprint(s.ids["ЕТ Иванов"])}, "updates": {"3"}}
	p := b.do("POST", "/preview", form)
	if p.status != 200 || !strings.Contains(p.body, "<strong>5</strong>") || s.remaining("ЕТ Иванов") != 2 {
		t.Fatalf("preview: %d %s (remaining %d)", p.status, p.body, s.remaining("ЕТ Иванов"))
	}
	confirm := p.hidden()
	for range 2 {
		if d := b.do("POST", "/apply", confirm); d.status != 200 {
			t.Fatalf("apply: %d %s", d.status, d.body)
		}
	}
	if got := s.remaining("ЕТ Иванов"); got != 5 {
		t.Errorf("after confirming twice: %d remaining, want 5", got)
	}
}

// TestFormsWithoutTheCSRFTokenAreRefused: a form from another site, or
// without the session's token, changes nothing.
func TestFormsWithoutTheCSRFTokenAreRefused(t *testing.T) {
	s := newSite(t)
	b := s.signIn("maria")
	good := url.Values{"csrf": {b.csrf()}, "action": {"suspend"}, "id": {fmt.Sprint(s.ids["ЕТ Иванов"])}, "reason": {"x"}}
	for name, c := range map[string]struct {
		form   url.Values
		header []string
	}{
		"no token":      {url.Values{"action": {"suspend"}, "id": good["id"], "reason": {"x"}}, nil},
		"wrong token":   {url.Values{"csrf": {"forged"}, "action": {"suspend"}, "id": good["id"], "reason": {"x"}}, nil},
		"other origin":  {good, []string{"Origin", "https://evil.example"}},
		"other session": {url.Values{"csrf": {s.signIn("boss").csrf()}, "action": {"suspend"}, "id": good["id"], "reason": {"x"}}, nil},
	} {
		if p := b.do("POST", "/apply", c.form, c.header...); p.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, p.status)
		}
	}
	c, _ := s.adm.Entitlement(t.Context(), admin.Local("test"), s.ids["ЕТ Иванов"])
	if !c.Active {
		t.Error("a refused form suspended the customer")
	}
	if p := b.do("POST", "/apply", good, "Origin", s.url); p.status != 200 {
		t.Errorf("the console's own form: %d %s", p.status, p.body)
	}
}

func TestDisabledAccountsSessionEndsAtOnce(t *testing.T) {
	s := newSite(t)
	b := s.signIn("maria")
	if p := b.do("GET", "/", nil); p.status != 200 {
		t.Fatalf("%d", p.status)
	}
	if _, err := s.adm.SetDisabled(t.Context(), admin.Local("test"), "maria", true, "left"); err != nil {
		t.Fatal(err)
	}
	if p := b.do("GET", "/", nil); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Errorf("after disabling: %d %s", p.status, p.header.Get("Location"))
	}
}

// TestSignInFailuresSayNothingAndAreLimited: an unknown login reads as a
// wrong password; five failures lock the account, even to its password.
func TestSignInFailuresSayNothingAndAreLimited(t *testing.T) {
	s := newSite(t)
	s.password("maria") // an account, for its wrong password to be told from no account
	b := s.browser()
	try := func(login, pw string) page {
		csrf := b.do("GET", "/login", nil).hidden().Get("csrf")
		return b.do("POST", "/login", url.Values{"csrf": {csrf}, "login": {login}, "password": {pw}})
	}
	unknown, wrong := try("nobody", "x"), try("maria", "x")
	if unknown.status != http.StatusUnauthorized || strings.ReplaceAll(unknown.body, "nobody", "maria") != wrong.body {
		t.Errorf("an unknown login and a wrong password answer differently:\n%s\n%s", unknown.body, wrong.body)
	}
	for range 4 {
		try("maria", "x")
	}
	if p := try("maria", s.password("maria")); p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
		t.Errorf("the right password after 5 failures: %d, want 429 with Retry-After", p.status)
	}
	if p := try("boss", s.password("boss")); p.status != http.StatusSeeOther {
		t.Errorf("another account from the same address: %d, want it to sign in", p.status)
	}
}

func TestDistributorSeesOnlyItsCustomers(t *testing.T) {
	s := newSite(t)
	b := s.signIn("plovdiv")
	if p := b.do("GET", "/customers/"+url.PathEscape("Варна ООД"), nil); p.status != http.StatusNotFound {
		t.Errorf("another distributor's customer: %d", p.status)
	}
	if p := b.do("GET", fmt.Sprintf("/entitlements/%d/add", s.ids["Варна ООД"]), nil); p.status != http.StatusNotFound {
		t.Errorf("another distributor's entitlement: %d", p.status)
	}
	if p := b.do("GET", "/?all=1", nil); strings.Contains(p.body, "Варна ООД") || !strings.Contains(p.body, "ЕТ Иванов") {
		t.Errorf("the list of all customers: %s", p.body)
	}
	if p := b.do("GET", "/staff", nil); p.status != http.StatusForbidden {
		t.Errorf("staff page for a distributor: %d", p.status)
	}
}

func TestSignInRedirectStaysOnTheConsole(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example/x", "/\n/evil.example", "/%2F/x\x7f"} {
		csrf := b.do("GET", "/login", nil).hidden().Get("csrf")
		p := b.do("POST", "/login", url.Values{"csrf": {csrf}, "login": {"help"}, "password": {s.password("help")}, "next": {next}})
		if p.header.Get("Location") != "/" {
			t.Errorf("next=%q went to %q", next, p.header.Get("Location"))
		}
		if p := b.do("GET", "/language?lang=bg&back="+url.QueryEscape(next), nil); p.header.Get("Location") != "/" {
			t.Errorf("the language switch's back=%q went to %q", next, p.header.Get("Location"))
		}
	}
}

// TestOversizedFormRefused: a form far larger than any the console makes
// is refused before it is read, and changes nothing.
func TestOversizedFormRefused(t *testing.T) {
	s := newSite(t)
	b := s.signIn("maria")
	form := url.Values{"csrf": {b.csrf()}, "action": {"add"}, "id": {fmt.Sprint(s.ids["ЕТ Иванов"])}, "updates": {"1"},
		"reason": {strings.Repeat("x", 5<<20)}}
	if p := b.do("POST", "/apply", form); p.status < 400 {
		t.Errorf("a 5 MiB form: %d", p.status)
	}
	if got := s.remaining("ЕТ Иванов"); got != 2 {
		t.Errorf("remaining %d after a refused form", got)
	}
}

// TestSignInWithTOTP: an account with two-step sign-in needs the code;
// the session before it is worth nothing.
func TestSignInWithTOTP(t *testing.T) {
	s := newSite(t)
	s.password("boss")
	setup, err := s.adm.EnableTOTP(t.Context(), admin.Local("test"), "boss", true)
	if err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	csrf := b.do("GET", "/login", nil).hidden().Get("csrf")
	p := b.do("POST", "/login", url.Values{"csrf": {csrf}, "login": {"boss"}, "password": {s.password("boss")}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login/code") {
		t.Fatalf("password step: %d %s", p.status, p.header.Get("Location"))
	}
	pending := b.cookies["__Host-aktual-session"]
	if q := b.do("GET", "/", nil); q.status != http.StatusSeeOther {
		t.Errorf("a pending session opened the console: %d", q.status)
	}
	if q := b.do("POST", "/login/code", url.Values{"csrf": {csrf}, "code": {"000000"}}); q.status != http.StatusUnauthorized {
		t.Errorf("a wrong code: %d", q.status)
	}
	code := totpNow(t, setup.Secret)
	if q := b.do("POST", "/login/code", url.Values{"csrf": {csrf}, "code": {code}}); q.status != http.StatusSeeOther {
		t.Fatalf("the right code: %d %s", q.status, q.body)
	}
	if b.cookies["__Host-aktual-session"] == pending {
		t.Error("the session id did not change at sign-in")
	}
	if q := b.do("GET", "/staff", nil); q.status != 200 {
		t.Errorf("after two-step sign-in: %d", q.status)
	}
	// The same code again, from another browser that has the password:
	// refused, as one seen over a shoulder must be.
	other := s.browser()
	csrf = other.do("GET", "/login", nil).hidden().Get("csrf")
	other.do("POST", "/login", url.Values{"csrf": {csrf}, "login": {"boss"}, "password": {s.password("boss")}})
	if q := other.do("POST", "/login/code", url.Values{"csrf": {csrf}, "code": {code}}); q.status != http.StatusUnauthorized {
		t.Errorf("a code used once already: %d, want 401", q.status)
	}
}

// TestOwnPasswordAndTwoStepSignIn: a staff member changes their password
// (the current one checked; their other sessions end, this one goes on)
// and turns on two-step sign-in, proven with the app's code first.
func TestOwnPasswordAndTwoStepSignIn(t *testing.T) {
	s := newSite(t)
	b, elsewhere := s.signIn("maria"), s.signIn("maria")
	form := func(f url.Values) url.Values {
		f.Set("csrf", b.do("GET", "/account", nil).hidden().Get("csrf"))
		return f
	}
	if p := b.do("POST", "/account/password", form(url.Values{"current": {"wrong"}, "new": {"correct horse battery"}, "repeat": {"correct horse battery"}})); p.status != http.StatusBadRequest {
		t.Errorf("a wrong current password: %d", p.status)
	}
	if p := b.do("POST", "/account/password", form(url.Values{"current": {s.password("maria")}, "new": {"short"}, "repeat": {"short"}})); p.status != http.StatusBadRequest {
		t.Errorf("a short new password: %d", p.status)
	}
	if p := b.do("POST", "/account/password", form(url.Values{"current": {s.password("maria")}, "new": {"correct horse battery"}, "repeat": {"correct horse batterY"}})); p.status != http.StatusBadRequest {
		t.Errorf("a mistyped repetition: %d", p.status)
	}
	if p := b.do("POST", "/account/password", form(url.Values{"current": {s.password("maria")}, "new": {"correct horse battery"}, "repeat": {"correct horse battery"}})); p.status != 200 || !strings.Contains(p.body, `id="done"`) {
		t.Fatalf("changing the password: %d %s", p.status, p.body)
	}
	if p := b.do("GET", "/account", nil); p.status != 200 {
		t.Errorf("this session after the change: %d", p.status)
	}
	if p := elsewhere.do("GET", "/", nil); p.status != http.StatusSeeOther {
		t.Errorf("the other session after the change: %d, want it ended", p.status)
	}
	s.passwords["maria"] = "correct horse battery"
	s.signIn("maria")

	setup := b.do("POST", "/account/totp", form(url.Values{}))
	secret := setup.hidden().Get("secret")
	if setup.status != 200 || secret == "" || !strings.Contains(setup.body, `href="otpauth://totp/`) {
		t.Fatalf("two-step setup: %d %s", setup.status, setup.body)
	}
	if p := b.do("POST", "/account/totp/confirm", form(url.Values{"secret": {secret}, "code": {"000000"}})); p.status != http.StatusBadRequest {
		t.Errorf("a wrong code: %d", p.status)
	}
	if p := b.do("POST", "/account/totp/confirm", form(url.Values{"secret": {secret}, "code": {totpNow(t, secret)}})); p.status != 200 || !strings.Contains(p.body, `id="totp-state">on<`) {
		t.Fatalf("confirming: %d %s", p.status, p.body)
	}
	login := s.browser()
	csrf := login.do("GET", "/login", nil).hidden().Get("csrf")
	if p := login.do("POST", "/login", url.Values{"csrf": {csrf}, "login": {"maria"}, "password": {"correct horse battery"}}); !strings.HasPrefix(p.header.Get("Location"), "/login/code") {
		t.Errorf("signing in after two-step is on: %d %s", p.status, p.header.Get("Location"))
	}
}

// TestCustomersRecord: an office moves a customer to another distributor
// and sets the VAT number; the search then finds it by that number.
func TestCustomersRecord(t *testing.T) {
	s := newSite(t)
	b := s.signIn("maria")
	name := "ЕТ Иванов"
	if p := b.do("GET", "/customers/"+url.PathEscape(name)+"/edit", nil); p.status != 200 || !strings.Contains(p.body, "Варна Сис") {
		t.Fatalf("the form: %d", p.status)
	}
	p := b.do("POST", "/preview", url.Values{"csrf": {b.csrf()}, "action": {"customer"}, "customer": {name}, "vat": {"BG999"}, "distributor": {"Варна Сис"}})
	if p.status != 200 || !strings.Contains(p.body, "<strong>BG999</strong>") || !strings.Contains(p.body, "<strong>Варна Сис</strong>") {
		t.Fatalf("preview: %d %s", p.status, p.body)
	}
	if d := b.do("POST", "/apply", p.hidden()); d.status != 200 {
		t.Fatalf("apply: %d %s", d.status, d.body)
	}
	if p := b.do("GET", "/?q=BG999", nil); !strings.Contains(p.body, name) || !strings.Contains(p.body, "Варна Сис") {
		t.Errorf("search by the new VAT number: %s", p.body)
	}
	// The Plovdiv distributor no longer sees the customer it lost.
	if p := s.signIn("plovdiv").do("GET", "/customers/"+url.PathEscape(name), nil); p.status != http.StatusNotFound {
		t.Errorf("the former distributor: %d", p.status)
	}
}

// TestIdleSessionEnds: a session left alone two hours ends (a computer
// left signed in at a shop counter); one in use goes on.
func TestIdleSessionEnds(t *testing.T) {
	s := newSite(t)
	var at atomic.Int64
	at.Store(time.Now().UnixNano())
	s.adm.Now = func() time.Time { return time.Unix(0, at.Load()) }
	b := s.signIn("maria")
	step := func(d time.Duration) { at.Add(int64(d)) }
	for range 5 { // in use, an hour and a half apart: still signed in
		step(90 * time.Minute)
		if p := b.do("GET", "/", nil); p.status != 200 {
			t.Fatalf("a session in use ended: %d", p.status)
		}
	}
	step(2*time.Hour + time.Minute)
	if p := b.do("GET", "/", nil); p.status != http.StatusSeeOther {
		t.Errorf("a session idle for two hours: %d, want it ended", p.status)
	}
}
