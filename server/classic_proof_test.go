package server_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server"
)

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
