package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
)

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
