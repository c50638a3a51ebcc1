package server_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
)

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
