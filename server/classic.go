package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"net/http"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/metrics"
	"github.com/aktual/aktual/server/store"
)

// Classic-series limits.
const (
	// ChallengeTTL: a challenge must be signed and presented this soon.
	ChallengeTTL = 5 * time.Minute
	// SessionTTL: how long an Internet code is valid.
	SessionTTL = 15 * time.Minute
	// MaxInternetCodeAttempts: wrong codes before a session is locked.
	MaxInternetCodeAttempts = 5
)

const (
	challengeRandom = 16
	challengeMAC    = 16
	challengeSize   = 8 + challengeRandom + challengeMAC
)

// mac keys a purpose-separated HMAC with the server's secret.
func (s *Server) mac(purpose string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, s.Keys.CodeSecret)
	m.Write([]byte("aktual-" + purpose + "-v1\x00"))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// newChallenge makes a stateless challenge: issue time, random bytes and a
// MAC over both. Freshness is checked by the time; single use by the
// session store (a challenge's hash is unique there).
func (s *Server) newChallenge(now time.Time) []byte {
	c := make([]byte, 8+challengeRandom, challengeSize)
	binary.BigEndian.PutUint64(c, uint64(now.Unix()))
	rand.Read(c[8:])
	return append(c, s.mac("challenge", c)[:challengeMAC]...)
}

func (s *Server) checkChallenge(c []byte, now time.Time) error {
	if len(c) != challengeSize {
		return i18n.Errorf("the challenge is malformed; start again")
	}
	body := c[:8+challengeRandom]
	if subtle.ConstantTimeCompare(c[8+challengeRandom:], s.mac("challenge", body)[:challengeMAC]) != 1 {
		return i18n.Errorf("the challenge was not issued by this server; start again")
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(c)), 0)
	if now.Sub(issued) > ChallengeTTL || issued.Sub(now) > time.Minute {
		return i18n.Errorf("the challenge has expired; start again")
	}
	return nil
}

var sessionIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return "s_" + sessionIDEncoding.EncodeToString(b[:])
}

func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	if !readEmptyBody(w, r) {
		return
	}
	// The challenge carries whole seconds: its stated expiry is computed
	// from the same instant the check will use.
	issued := s.Now.UTC().Truncate(time.Second)
	writeJSON(w, http.StatusOK, api.ChallengeResponse{Challenge: s.newChallenge(issued), ExpiresAt: issued.Add(ChallengeTTL)})
}

// handleOpenSession opens a classic session for a hardware key that proved
// it is present by signing the server's challenge.
func (s *Server) handleOpenSession(w http.ResponseWriter, r *http.Request) {
	at := s.newAttempt()
	defer at.end()
	if !at.admitAddr(w, r) {
		return
	}
	var req api.ClassicSessionRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !checkUpdateFields(w, r, req.Product, req.FromVersion, req.ToVersion, req.MachineID) {
		return
	}
	if !s.checkTarget(w, r, req.Product, req.FromVersion, req.ToVersion, "") {
		return
	}
	now := s.Now.UTC()
	proof := api.HWKeyProof{Licence: req.Licence, Challenge: req.Challenge, Signature: req.Signature}
	lic, ok := s.verifyKeyProof(w, r, proof, req.Product, now, at)
	if !ok {
		return
	}
	series, ok := s.productSeries(w, r, req.Product)
	if !ok {
		return
	}
	if series != api.SeriesClassic {
		writeError(w, r, http.StatusForbidden, api.CodeWrongSeries, wrongSeries(req.Product, series))
		return
	}
	challengeHash := sha256.Sum256(req.Challenge)
	cs := store.ClassicSession{
		ID: newSessionID(), Serial: lic.Serial, Product: req.Product,
		FromVersion: req.FromVersion, ToVersion: req.ToVersion, MachineID: req.MachineID,
		ChallengeHash: challengeHash[:], CreatedAt: now, ExpiresAt: now.Add(SessionTTL),
	}
	if err := s.Store.CreateSession(r.Context(), cs); errors.Is(err, store.ErrConflict) {
		writeError(w, r, http.StatusConflict, api.CodeExpired, i18n.M("this challenge was already used; start again"))
		return
	} else if err != nil {
		s.internalError(w, r, "creating session", err)
		return
	}
	at.succeed()
	cs.State = api.SessionOpen
	// The session ID opens its page, which shows the Internet code: the
	// log gets only enough of it to find the session.
	s.logger().Info("classic session opened", "session", maskSession(cs.ID), "hwkey", cs.Serial, "product", cs.Product, "machine", cs.MachineID)
	writeJSON(w, http.StatusOK, s.sessionView(r, cs))
}

// verifyKeyProof checks that a hardware key is present: the challenge is
// this server's and fresh, the licence is signed by the vendor and covers
// product at now, and the key signed the challenge. A wrong licence or
// signature counts as a failed attempt with at; the key's serial is
// admitted to the limiter once the vendor's signature vouches for it. It
// answers a refusal itself.
func (s *Server) verifyKeyProof(w http.ResponseWriter, r *http.Request, p api.HWKeyProof, product string, now time.Time, at *attempt) (hwkey.LicenceStatement, bool) {
	if err := s.checkChallenge(p.Challenge, now); err != nil {
		writeError(w, r, http.StatusBadRequest, api.CodeExpired, localizable(err))
		return hwkey.LicenceStatement{}, false
	}
	lic, err := hwkey.VerifyLicence(p.Licence, s.Keys.KeySet.ReleaseKeys)
	if err != nil {
		at.fail()
		s.metrics().CredentialFailed(metrics.CredClassicKey)
		writeError(w, r, http.StatusForbidden, api.CodeUnknownCredential,
			i18n.M("the hardware key's licence is not valid for this vendor (%v); contact your vendor", err))
		return hwkey.LicenceStatement{}, false
	}
	// Keyed by serial only once the vendor's signature vouches for it
	// (nobody can block a key by naming its serial in a forged licence),
	// and by the serial from this address only: a licence file is no
	// secret (it is copied with backups and sent to support), and a proof
	// cannot be guessed, so failed proofs from elsewhere must not lock the
	// key's owner out. The address's own count still bounds each sender.
	if !at.admit(w, r, keyHWKey, lic.Serial+"@"+clientAddr(r), lic.Serial) {
		return hwkey.LicenceStatement{}, false
	}
	if !hwkey.VerifyChallenge(lic.PublicKey, p.Challenge, p.Signature) {
		at.fail()
		s.metrics().CredentialFailed(metrics.CredClassicKey)
		writeError(w, r, http.StatusForbidden, api.CodeUnknownCredential,
			i18n.M("the hardware key did not prove it is present (its signature does not match its licence); reconnect the key and try again"))
		return hwkey.LicenceStatement{}, false
	}
	if err := lic.Check(now, product); errors.Is(err, hwkey.ErrExpired) {
		writeError(w, r, http.StatusForbidden, api.CodeExpired, localizable(err))
		return hwkey.LicenceStatement{}, false
	} else if err != nil {
		at.fail()
		s.metrics().CredentialFailed(metrics.CredClassicKey)
		writeError(w, r, http.StatusForbidden, api.CodeUnknownCredential, localizable(err))
		return hwkey.LicenceStatement{}, false
	}
	return lic, true
}

// sessionView is what the client learns of a session: its page, its state
// and, when no code can be given, why (in the language r asks for).
func (s *Server) sessionView(r *http.Request, cs store.ClassicSession) api.ClassicSession {
	v := api.ClassicSession{ID: cs.ID, URL: s.baseURL(r) + "/classic/" + cs.ID, State: cs.State, ExpiresAt: cs.ExpiresAt}
	if !s.Now.UTC().Before(cs.ExpiresAt) && cs.State != api.SessionUsed {
		v.State = api.SessionExpired
	}
	p := printer(r)
	ent, err := s.Store.Entitlement(r.Context(), store.Credential{HWKeySerial: cs.Serial})
	switch {
	case errors.Is(err, store.ErrUnknownCredential) || (err == nil && !ent.Active):
		v.Problem, v.Message = api.CodeInactive, p.Sprint(keyNotEnabled(cs.Serial))
	case err != nil:
		s.logger().Error("session view", "err", err)
	case ent.Remaining == 0 && cs.State != api.SessionUsed:
		v.Remaining = &ent.Remaining
		v.Problem, v.Message = api.CodeExhausted, p.Sprint(i18n.M(
			"no paid updates remain for hardware key %s; buy more updates from your vendor or regional distributor", cs.Serial))
	default:
		v.Remaining = &ent.Remaining
	}
	return v
}

// baseURL is the server's address as the client reached it, for links.
func (s *Server) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return s.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) handleSessionStatus(w http.ResponseWriter, r *http.Request) {
	cs, ok := s.sessionFor(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.sessionView(r, cs))
}

func (s *Server) sessionFor(w http.ResponseWriter, r *http.Request) (store.ClassicSession, bool) {
	id := r.PathValue("id")
	if !api.ValidName(id) {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("session id is not valid"))
		return store.ClassicSession{}, false
	}
	cs, err := s.Store.Session(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, api.CodeNotFound, i18n.M("no such session; start the update again in the installer"))
		return cs, false
	} else if err != nil {
		s.internalError(w, r, "reading session", err)
		return cs, false
	}
	return cs, true
}

// classicCredential checks a session credential presented with a reserve
// and returns the store credential and session ID, or writes the refusal
// (and counts it with at when it is a wrong credential).
func (s *Server) classicCredential(w http.ResponseWriter, r *http.Request, c api.Credential, req api.ReserveRequest, at *attempt) (store.Credential, string, bool) {
	cs, err := s.Store.Session(r.Context(), c.Session)
	if errors.Is(err, store.ErrNotFound) {
		at.fail()
		s.metrics().CredentialFailed(metrics.CredInternetCode)
		writeError(w, r, http.StatusForbidden, api.CodeUnknownCredential, i18n.M("this session is not known to the server; start the update again"))
		return store.Credential{}, "", false
	} else if err != nil {
		s.internalError(w, r, "reading session", err)
		return store.Credential{}, "", false
	}
	switch {
	case cs.MachineID != req.MachineID:
		at.fail()
		s.metrics().CredentialFailed(metrics.CredInternetCode)
		writeError(w, r, http.StatusForbidden, api.CodeUnknownCredential,
			i18n.M("this Internet code was issued for another computer; start the update on this computer to get its own code"))
		return store.Credential{}, "", false
	case cs.Product != req.Product || cs.ToVersion != req.ToVersion || cs.FromVersion != req.FromVersion:
		at.fail()
		s.metrics().CredentialFailed(metrics.CredInternetCode)
		writeError(w, r, http.StatusForbidden, api.CodeUnknownCredential,
			i18n.M("this Internet code was issued for another update; start the update again"))
		return store.Credential{}, "", false
	case cs.State == api.SessionLocked:
		writeError(w, r, http.StatusForbidden, api.CodeExpired,
			i18n.M("too many wrong Internet codes were typed for this session; start the update again to get a new code"))
		return store.Credential{}, "", false
	case !s.Now.UTC().Before(cs.ExpiresAt) && cs.State != api.SessionUsed:
		writeError(w, r, http.StatusForbidden, api.CodeExpired,
			i18n.M("this Internet code has expired (codes are valid for 15 minutes); start the update again to get a new one"))
		return store.Credential{}, "", false
	}
	// A used session still checks a code given with it; a repeat of the
	// reserve that used it is then answered by its idempotency key, and
	// any other is refused by the store.
	if c.InternetCode == "" {
		if cs.State != api.SessionConfirmed && cs.State != api.SessionUsed {
			writeError(w, r, http.StatusBadRequest, api.CodeInvalidCode, i18n.M("type the Internet code shown on the page, or press Continue there"))
			return store.Credential{}, "", false
		}
		return store.Credential{HWKeySerial: cs.Serial}, cs.ID, true
	}
	typed, err := api.ParseInternetCode(c.InternetCode)
	if err != nil {
		// Refused for its shape, not checked: counted neither here nor on the session.
		writeError(w, r, http.StatusBadRequest, api.CodeInvalidCode, localizable(err))
		return store.Credential{}, "", false
	}
	want := api.DeriveInternetCode(s.Keys.CodeSecret, cs.ID)
	if subtle.ConstantTimeCompare([]byte(typed), []byte(want)) != 1 {
		at.fail()
		s.metrics().CredentialFailed(metrics.CredInternetCode)
		after, err := s.Store.FailSessionAttempt(r.Context(), cs.ID, MaxInternetCodeAttempts)
		if err != nil {
			s.internalError(w, r, "counting attempt", err)
			return store.Credential{}, "", false
		}
		msg := i18n.M("the Internet code is not the one on the page; check it and try again (%d attempts left)",
			MaxInternetCodeAttempts-after.Attempts)
		if after.State == api.SessionLocked {
			msg = i18n.M("the Internet code is not the one on the page, and too many wrong codes were typed; start the update again to get a new code")
		}
		writeError(w, r, http.StatusForbidden, api.CodeUnknownCredential, msg)
		return store.Credential{}, "", false
	}
	return store.Credential{HWKeySerial: cs.Serial}, cs.ID, true
}
