package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	pagepkg "github.com/aktual/aktual/server/page"
	"github.com/aktual/aktual/server/ratelimit"
)

// The server answers the customer in the installer's language: every
// error message, a session's problem and the Internet-code page are
// Bulgarian for Accept-Language: bg and English otherwise.

// langServer is a real instance served on loopback, with a Pro product
// (ledger), a classic one (abacus), a Pro code with one update and an
// activated hardware key.
type langServer struct {
	inst   *datadir.Instance
	url    string
	code   string // one update
	key    *hwkey.FileKey
	client *http.Client
}

func newLangServer(t *testing.T) *langServer {
	t.Helper()
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	ctx := t.Context()
	adm := admin.New(inst)
	for _, p := range []struct{ product, series string }{{"ledger", api.SeriesPro}, {"abacus", api.SeriesClassic}} {
		if _, err := adm.Publish(ctx, admin.PublishParams{Product: p.product, Series: p.series, Version: "2.0.0",
			OS: "linux", Arch: "amd64", File: strings.NewReader(p.product + " 2.0.0")}); err != nil {
			t.Fatal(err)
		}
	}
	act, err := adm.ActivatePro(ctx, "Acme", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.ActivateClassic(ctx, "Acme", "HK-1", 3); err != nil {
		t.Fatal(err)
	}
	lic, err := hwkey.Issue(inst.Keys.Release, "HK-1", "Acme", nil, time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := hwkey.ParseFile(lic)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(inst, "test", nil)
	// The block that follows the allowance is long enough for a test to
	// see it whole.
	srv.Limiter = ratelimit.New(ratelimit.Limits{FirstBlock: 30 * time.Second})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &langServer{inst: inst, url: ts.URL, code: act.Code, key: key, client: ts.Client()}
}

type langReply struct {
	status int
	header http.Header
	body   []byte
}

// send sends a request; a body is JSON unless it is url.Values (a form).
func (s *langServer) send(t *testing.T, method, path, acceptLanguage string, body any) langReply {
	t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	client := *s.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return langReply{status: resp.StatusCode, header: resp.Header, body: data}
}

// openSession opens a session for abacus 1.0.0 → 2.0.0 with the key.
func (s *langServer) openSession(t *testing.T, acceptLanguage string) api.ClassicSession {
	t.Helper()
	var ch api.ChallengeResponse
	r := s.send(t, http.MethodPost, "/v1/classic/challenges", "", nil)
	if r.status != http.StatusOK || json.Unmarshal(r.body, &ch) != nil {
		t.Fatalf("challenge: %d %s", r.status, r.body)
	}
	sig, err := s.key.Sign(t.Context(), ch.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	r = s.send(t, http.MethodPost, "/v1/classic/sessions", acceptLanguage, api.ClassicSessionRequest{
		Licence: s.key.Envelope(), Challenge: ch.Challenge, Signature: sig,
		Product: "abacus", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "machine-1",
	})
	var sess api.ClassicSession
	if r.status != http.StatusOK || json.Unmarshal(r.body, &sess) != nil {
		t.Fatalf("session: %d %s", r.status, r.body)
	}
	return sess
}

func errorDetail(t *testing.T, r langReply, status int, code string) api.ErrorDetail {
	t.Helper()
	var eb api.ErrorBody
	if err := api.DecodeStrict(r.body, &eb); err != nil {
		t.Fatalf("answer %d %q is not an error body: %v", r.status, r.body, err)
	}
	if r.status != status || eb.Error.Code != code {
		t.Errorf("answer %d %s (%s), want %d %s", r.status, eb.Error.Code, eb.Error.Message, status, code)
	}
	return eb.Error
}

func reserveBody(code, product, key string) api.ReserveRequest {
	return api.ReserveRequest{IdempotencyKey: key, Credential: api.Credential{Code: code}, Product: product,
		FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "machine-1"}
}

// wrongProCode is a well-formed code that no customer has.
func wrongProCode(t *testing.T) string {
	t.Helper()
	c, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	return c.String()
}

func TestErrorsInTheCustomersLanguage(t *testing.T) {
	s := newLangServer(t)
	mistyped := "12345-67890-12345-67890-12346"
	_, parseErr := api.ParseCode(mistyped)
	if parseErr == nil {
		t.Fatal("the mistyped code parses")
	}
	spent := func(t *testing.T) {
		// Spend the code's only update, once for the whole table.
		r := s.send(t, http.MethodPost, "/v1/reservations", "", reserveBody(s.code, "ledger", "spend"))
		if r.status != http.StatusOK {
			t.Fatalf("reserve: %d %s", r.status, r.body)
		}
	}
	keys := 0
	var sessionID string
	openOnce := func(t *testing.T) string {
		if sessionID == "" {
			sessionID = s.openSession(t, "").ID
		}
		return sessionID
	}
	wrongInternetCode := func(id string) string {
		code := api.DeriveInternetCode(s.inst.Keys.CodeSecret, id)
		b := []byte(code[:api.InternetCodeDigits-1])
		b[0] = '0' + (b[0]-'0'+1)%10
		return api.InternetCode(append(b, api.DammCheckDigit(string(b)))).String()
	}

	for _, tc := range []struct {
		name         string
		setup        func(t *testing.T)
		send         func(t *testing.T, lang string) langReply
		status       int
		code         string
		english, bul string // ending "…": the message begins so
	}{
		{"unknown endpoint", nil,
			func(t *testing.T, lang string) langReply { return s.send(t, http.MethodGet, "/v2/nothing", lang, nil) },
			http.StatusNotFound, api.CodeNotFound,
			"no such endpoint: GET /v2/nothing", "няма такъв адрес: GET /v2/nothing"},
		{"method not allowed", nil,
			func(t *testing.T, lang string) langReply {
				return s.send(t, http.MethodDelete, "/v1/reservations", lang, nil)
			},
			http.StatusMethodNotAllowed, api.CodeBadRequest,
			"DELETE is not allowed here; use POST", "методът DELETE не е разрешен тук; използвайте POST"},
		{"empty body", nil,
			func(t *testing.T, lang string) langReply {
				return s.send(t, http.MethodPost, "/v1/reservations", lang, " ")
			},
			http.StatusBadRequest, api.CodeBadRequest,
			"request body is empty; send a JSON object", "тялото на заявката е празно; изпратете JSON обект"},
		{"latest without a platform", nil,
			func(t *testing.T, lang string) langReply {
				return s.send(t, http.MethodGet, "/v1/products/ledger/latest", lang, nil)
			},
			http.StatusBadRequest, api.CodeBadRequest,
			"os and arch query parameters are required (e.g. ?os=linux&arch=amd64)",
			"параметрите os и arch са задължителни (напр. ?os=linux&arch=amd64)"},
		{"mistyped code: the api package's message", nil,
			func(t *testing.T, lang string) langReply {
				return s.send(t, http.MethodPost, "/v1/reservations", lang, reserveBody(mistyped, "ledger", "k-typo"))
			},
			http.StatusBadRequest, api.CodeInvalidCode,
			i18n.NewPrinter(i18n.English).Sprint(parseErr), i18n.NewPrinter(i18n.Bulgarian).Sprint(parseErr)},
		{"unknown code", nil,
			func(t *testing.T, lang string) langReply {
				return s.send(t, http.MethodPost, "/v1/reservations", lang, reserveBody(wrongProCode(t), "ledger", "k-unknown"))
			},
			http.StatusForbidden, api.CodeUnknownCredential,
			"this update code is not known to the server; check it against your receipt, or ask your vendor to activate it",
			"сървърът не познава този код за обновяване; сверете го с документа, който сте получили, или помолете доставчика да го активира"},
		{"no updates left", spent,
			func(t *testing.T, lang string) langReply {
				keys++
				return s.send(t, http.MethodPost, "/v1/reservations", lang, reserveBody(s.code, "ledger", fmt.Sprint("k-exhausted-", keys)))
			},
			http.StatusConflict, api.CodeExhausted,
			"no paid updates remain for this credential; buy more updates from your vendor or regional distributor",
			"не остават платени обновявания по тези данни за достъп; купете още обновявания от доставчика или регионалния дистрибутор"},
		{"wrong series", nil,
			func(t *testing.T, lang string) langReply {
				return s.send(t, http.MethodPost, "/v1/entitlements/query", lang,
					api.EntitlementQuery{Credential: api.Credential{Code: s.code}, Product: "abacus"})
			},
			http.StatusForbidden, api.CodeWrongSeries,
			"abacus is a classic-series product: it is updated with its hardware key, not with an update code",
			"abacus е продукт от класическата серия: обновява се с хардуерния си ключ, а не с код за обновяване"},
		{"wrong Internet code: a plural", nil,
			func(t *testing.T, lang string) langReply {
				id := openOnce(t)
				keys++
				return s.send(t, http.MethodPost, "/v1/reservations", lang, api.ReserveRequest{
					IdempotencyKey: fmt.Sprint("k-icode-", keys), Credential: api.Credential{Session: id, InternetCode: wrongInternetCode(id)},
					Product: "abacus", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "machine-1",
				})
			},
			http.StatusForbidden, api.CodeUnknownCredential,
			"the Internet code is not the one on the page; check it and try again (…",
			"Интернет кодът не е този от страницата; проверете го и опитайте отново (остават …"},
		// Last: it blocks this address.
		{"rate limited", func(t *testing.T) {
			for range api.MaxRequestBody {
				r := s.send(t, http.MethodPost, "/v1/reservations", "", reserveBody(wrongProCode(t), "ledger", "k-wrong"))
				if r.status == http.StatusTooManyRequests {
					return
				}
			}
			t.Fatal("wrong codes are never limited")
		},
			func(t *testing.T, lang string) langReply {
				return s.send(t, http.MethodPost, "/v1/reservations", lang, reserveBody(s.code, "ledger", "k-limited"))
			},
			http.StatusTooManyRequests, api.CodeRateLimited,
			"too many wrong codes from this address; wait 30 seconds and try again",
			"от този адрес бяха изпратени твърде много грешни кодове; изчакайте 30 секунди и опитайте отново"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			for _, lang := range []struct {
				accept, want string
			}{
				{"bg", tc.bul},
				{"", tc.english},
				{"en-US,en;q=0.9", tc.english},
			} {
				r := tc.send(t, lang.accept)
				e := errorDetail(t, r, tc.status, tc.code)
				prefix, isPrefix := strings.CutSuffix(lang.want, "…")
				if isPrefix && !strings.HasPrefix(e.Message, prefix) || !isPrefix && e.Message != lang.want {
					t.Errorf("Accept-Language %q: message %q, want %q", lang.accept, e.Message, lang.want)
				}
				wantLang := "en"
				if lang.accept == "bg" {
					wantLang = "bg"
				}
				if got := r.header.Get("Content-Language"); got != wantLang {
					t.Errorf("Accept-Language %q: Content-Language %q, want %q", lang.accept, got, wantLang)
				}
			}
		})
	}
}

// TestSessionProblemInTheCustomersLanguage: the reason a session's page
// gives no code comes back in the language of the request that asks.
func TestSessionProblemInTheCustomersLanguage(t *testing.T) {
	s := newLangServer(t)
	// A key the vendor licensed but never activated.
	lic, err := hwkey.Issue(s.inst.Keys.Release, "HK-OFF", "Acme", nil, time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if s.key, err = hwkey.ParseFile(lic); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ accept, want string }{
		{"bg-BG,bg;q=0.9", "достъпът до сайта не е активиран за хардуерен ключ HK-OFF; помолете доставчика или регионалния дистрибутор да активира обновявания за него"},
		{"fr", "site access is not enabled for hardware key HK-OFF; ask your vendor or regional distributor to activate updates for it"},
	} {
		sess := s.openSession(t, tc.accept)
		if sess.Problem != api.CodeInactive || sess.Message != tc.want {
			t.Errorf("Accept-Language %q: problem %q %q, want %q %q", tc.accept, sess.Problem, sess.Message, api.CodeInactive, tc.want)
		}
		r := s.send(t, http.MethodGet, "/v1/classic/sessions/"+sess.ID, tc.accept, nil)
		var again api.ClassicSession
		if err := json.Unmarshal(r.body, &again); err != nil || again.Message != tc.want {
			t.Errorf("Accept-Language %q: status says %q (%v), want %q", tc.accept, again.Message, err, tc.want)
		}
	}
}

func TestRequestLanguage(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   language.Tag
	}{
		{"", i18n.English},
		{"bg", i18n.Bulgarian},
		{"BG-bg", i18n.Bulgarian},
		{"bg-BG,bg;q=0.9,en;q=0.8", i18n.Bulgarian},
		{"en-GB,en;q=0.9,bg;q=0.8", i18n.English},
		{"fr", i18n.English},
		{"fr-FR,fr;q=0.9,bg;q=0.5", i18n.Bulgarian},
		{"*", i18n.English},
		{";;;q=x", i18n.English},
		{strings.Repeat("bg,", 1000), i18n.Bulgarian},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Language", tc.accept)
		if got := requestLanguage(r); got != tc.want {
			t.Errorf("Accept-Language %.40q: %v, want %v", tc.accept, got, tc.want)
		}
	}
}

// TestPageLanguageOverride: ?lang= chooses the page's language over
// Accept-Language, and the Continue form keeps it through its post and
// redirect, and for its own refusals.
func TestPageLanguageOverride(t *testing.T) {
	s := newLangServer(t)
	sess := s.openSession(t, "")
	htmlLang := regexp.MustCompile(`<html lang="([a-z]+)">`)
	csrfRE := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	bgHeading, enHeading := pagepkg.NewText(i18n.NewPrinter(i18n.Bulgarian)).Heading, pagepkg.NewText(i18n.NewPrinter(i18n.English)).Heading

	for _, tc := range []struct {
		name, query, accept string
		lang, heading       string
		action              string // the Continue form's target
	}{
		{"lang=bg over an English browser", "?lang=bg", "en-US,en", "bg", bgHeading, "/continue?lang=bg"},
		{"lang=en over a Bulgarian browser", "?lang=en", "bg", "en", enHeading, "/continue?lang=en"},
		{"lang=bg-BG", "?lang=bg-BG", "", "bg", bgHeading, "/continue?lang=bg"},
		{"a language the page does not speak is ignored", "?lang=fr", "bg", "bg", bgHeading, `/continue"`},
		{"lang not a language", "?lang=%3Cscript%3E", "", "en", enHeading, `/continue"`},
		{"empty lang", "?lang=", "bg", "bg", bgHeading, `/continue"`},
		{"no lang: Accept-Language", "", "bg", "bg", bgHeading, `/continue"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.send(t, http.MethodGet, "/classic/"+sess.ID+tc.query, tc.accept, nil)
			body := string(r.body)
			if r.status != http.StatusOK {
				t.Fatalf("page: %d %s", r.status, body)
			}
			if m := htmlLang.FindStringSubmatch(body); m == nil || m[1] != tc.lang || r.header.Get("Content-Language") != tc.lang {
				t.Errorf("page language %v (Content-Language %q), want %s", m, r.header.Get("Content-Language"), tc.lang)
			}
			if !strings.Contains(body, tc.heading) {
				t.Errorf("page lacks the heading %q", tc.heading)
			}
			if want := `action="/classic/` + sess.ID + tc.action; !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		})
	}

	t.Run("Continue refusals in the page's language", func(t *testing.T) {
		for _, tc := range []struct{ path, accept, want string }{
			{"/continue?lang=bg", "en", "този формуляр е остарял; презаредете страницата"},
			{"/continue", "bg", "този формуляр е остарял; презаредете страницата"},
			{"/continue?lang=en", "bg", "this form has expired; reload the page"},
			{"/continue", "", "this form has expired; reload the page"},
		} {
			r := s.send(t, http.MethodPost, "/classic/"+sess.ID+tc.path, tc.accept, url.Values{"csrf": {"00"}})
			if r.status != http.StatusForbidden || strings.TrimSpace(string(r.body)) != tc.want {
				t.Errorf("POST %s (Accept-Language %q): %d %q, want 403 %q", tc.path, tc.accept, r.status, r.body, tc.want)
			}
		}
		r := s.send(t, http.MethodPost, "/classic/"+sess.ID+"/continue?lang=bg&%zz", "", url.Values{"csrf": {"00"}})
		if want := "формулярът не може да бъде прочетен: презаредете страницата и натиснете бутона отново"; r.status != http.StatusBadRequest || strings.TrimSpace(string(r.body)) != want {
			t.Errorf("unreadable form: %d %q, want 400 %q", r.status, r.body, want)
		}
	})

	t.Run("Continue keeps lang through its redirect", func(t *testing.T) {
		page := s.send(t, http.MethodGet, "/classic/"+sess.ID+"?lang=bg", "", nil)
		m := csrfRE.FindSubmatch(page.body)
		if m == nil {
			t.Fatalf("page has no Continue form: %s", page.body)
		}
		r := s.send(t, http.MethodPost, "/classic/"+sess.ID+"/continue?lang=bg", "", url.Values{"csrf": {string(m[1])}})
		if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != "/classic/"+sess.ID+"?lang=bg" {
			t.Fatalf("Continue answered %d to %q, want 303 to /classic/%s?lang=bg", r.status, loc, sess.ID)
		}
		after := s.send(t, http.MethodGet, "/classic/"+sess.ID+"?lang=bg", "", nil)
		if !strings.Contains(string(after.body), pagepkg.NewText(i18n.NewPrinter(i18n.Bulgarian)).Continued) {
			t.Errorf("the page after Continue does not say, in Bulgarian, that the installer continues:\n%s", after.body)
		}
	})
}

// TestServerMessagesTranslated renders every Bulgarian catalog entry the
// server uses with its own arguments' kinds: a missing verb or a wrong
// plural shows as %!, which no customer should read.
func TestServerMessagesTranslated(t *testing.T) {
	bg := i18n.NewPrinter(i18n.Bulgarian)
	for _, m := range []i18n.Message{
		i18n.M("the Internet code is not the one on the page; check it and try again (%d attempts left)", 1),
		i18n.M("the Internet code is not the one on the page; check it and try again (%d attempts left)", 4),
		i18n.M("too many attempts with hardware key %s failed; wait %s and try again", "HK-1", i18n.M("%d seconds", 30)),
		i18n.M("the server failed (%s); try again later, and tell your vendor if it persists", "store"),
	} {
		got := bg.Sprint(m)
		if strings.Contains(got, "%!") || got == m.String() {
			t.Errorf("%q renders in Bulgarian as %q", m.Format, got)
		}
	}
	if got := bg.Sprint(i18n.M("the Internet code is not the one on the page; check it and try again (%d attempts left)", 1)); !strings.HasSuffix(got, "(остава 1 опит)") {
		t.Errorf("one attempt left: %q", got)
	}
}
