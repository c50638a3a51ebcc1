package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/blobs"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/metrics"
	"github.com/aktual/aktual/server/patches"
	"github.com/aktual/aktual/server/store"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok", Version: s.Version})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeError(w, r, http.StatusServiceUnavailable, api.CodeInternal, i18n.M("the server is shutting down; try again in a moment"))
		return
	}
	if err := s.Store.Ping(r.Context()); err != nil {
		s.logger().Error("readiness: store does not answer", "err", err)
		writeError(w, r, http.StatusServiceUnavailable, api.CodeInternal, i18n.M("the database does not answer"))
		return
	}
	writeJSON(w, http.StatusOK, api.Health{Status: "ready", Version: s.Version})
}

// validNonce: the client's freshness nonce (it sends 32 hex digits) is
// 16 to 64 of [A-Za-z0-9_-].
func validNonce(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Server) handleLatest(w http.ResponseWriter, r *http.Request) {
	product := r.PathValue("product")
	q := r.URL.Query()
	goos, arch, current, nonce := q.Get("os"), q.Get("arch"), q.Get("current_sha256"), q.Get("nonce")
	switch {
	case !api.ValidName(product):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("product name is not valid"))
		return
	case !api.ValidName(goos) || !api.ValidName(arch):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("os and arch query parameters are required (e.g. ?os=linux&arch=amd64)"))
		return
	case current != "" && !blobs.ValidSHA256(current):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("current_sha256 must be 64 lowercase hex digits"))
		return
	case nonce != "" && !validNonce(nonce):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("nonce must be 16 to 64 letters, digits, '_' or '-'"))
		return
	case q.Get("sig") != "" && q.Get("sig") != api.SigTree:
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("sig must be tree when given"))
		return
	}
	oq, ok := offerQueryOf(w, r, q)
	if !ok {
		return
	}
	// Cached per question; signed afresh for each nonce (latest_cache.go).
	lq := latestQuery{Product: product, OS: goos, Arch: arch, Current: current, Patch: current != "" && patches.Wanted(q.Get("patch"))}
	if lq.Root, ok = s.askedRoot(w, r, q); !ok {
		return
	}
	body, err := s.latestAnswer(r.Context(), lq, answerFor{nonce: nonce, tree: q.Get("sig") == api.SigTree}, oq)
	var le *latestError
	switch {
	case errors.Is(err, errNoRelease):
		writeError(w, r, http.StatusNotFound, api.CodeNotFound,
			i18n.M("no release of %s is published for %s/%s", product, goos, arch))
	case errors.As(err, &le):
		s.internalError(w, r, le.what, le.err)
	case err != nil:
		s.internalError(w, r, "answering latest", err)
	default:
		writeJSONBody(w, http.StatusOK, body)
	}
}

// offerQueryOf reads the release control part of a latest question
// (proto=2: channel, machine, from, force), answering a refusal itself;
// nil for an installer that did not ask for it.
func offerQueryOf(w http.ResponseWriter, r *http.Request, q url.Values) (*offerQuery, bool) {
	if q.Get("proto") != api.LatestProto {
		return nil, true
	}
	oq := &offerQuery{Channel: q.Get("channel"), Machine: q.Get("machine"), From: q.Get("from"), Force: q.Get("force") == "1"}
	var msg i18n.Message
	switch {
	case oq.Channel != "" && !api.ValidName(oq.Channel):
		msg = i18n.M("channel must be a name of letters, digits, '.', '_' or '-' (e.g. beta)")
	case oq.Machine != "" && !api.ValidName(oq.Machine):
		msg = i18n.M("machine must be the installation's machine identity (letters, digits, '.', '_' or '-')")
	case oq.From != "" && !api.ValidVersion(oq.From):
		msg = i18n.M("from must be a version like 2.1.0")
	case q.Get("force") != "" && q.Get("force") != "1":
		msg = i18n.M("force must be 1 when given")
	default:
		return oq, true
	}
	writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, msg)
	return nil, false
}

// errNoRelease: no release of the product is offered for the platform.
var errNoRelease = errors.New("no release published")

// latestStatement reads from the store what the answer to q says to an
// installer that did not ask for the release control fields (nonce and
// times are left to signLatest), and the reading it was made from.
func (s *Server) latestStatement(ctx context.Context, q latestQuery) (api.LatestStatement, *latestReading, error) {
	rd, err := s.readLatest(ctx, q)
	if err != nil {
		return api.LatestStatement{}, nil, err
	}
	st, err := s.statementFor(ctx, q, rd, nil)
	return st, rd, err
}

func (s *Server) handleArtifact(w http.ResponseWriter, r *http.Request) {
	sum := r.PathValue("sha256")
	if !blobs.ValidSHA256(sum) {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("artifact name must be its sha256 in lowercase hex"))
		return
	}
	// Only what a release or a patch names is served: a file that reached
	// the blob folder but was never published (a refused publish) stays
	// private.
	origin, err := s.Store.ArtifactURL(r.Context(), sum)
	published := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internalError(w, r, "looking up artifact", err)
		return
	}
	if origin != "" {
		// The bytes live at an external origin or CDN. The client checks
		// them against the signed sha256 and size, so the origin need not
		// be trusted; Range and If-Range go with the redirect.
		w.Header().Set("Cache-Control", "public, max-age=300")
		http.Redirect(w, r, origin, http.StatusTemporaryRedirect)
		return
	}
	f, err := s.Blobs.Open(sum)
	if !published || err != nil {
		if f != nil {
			f.Close()
		}
		writeError(w, r, http.StatusNotFound, api.CodeNotFound, i18n.M("no artifact with sha256 %s", sum))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.internalError(w, r, "stat artifact", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+sum+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	// ServeContent answers Range, If-Range and If-None-Match from the ETag.
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func (s *Server) handleReserve(w http.ResponseWriter, r *http.Request) {
	at := s.newAttempt()
	defer at.end()
	if !at.admitAddr(w, r) {
		return
	}
	var req api.ReserveRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !api.ValidName(req.IdempotencyKey) {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("idempotency_key is required (up to 128 letters, digits, '.', '_' or '-')"))
		return
	}
	if !checkUpdateFields(w, r, req.Product, req.FromVersion, req.ToVersion, req.MachineID) {
		return
	}
	if !s.checkTarget(w, r, req.Product, req.FromVersion, req.ToVersion, req.IdempotencyKey) || !s.checkPath(w, r, req) {
		return
	}
	cred, session, ok := s.credential(w, r, req, at)
	if !ok {
		return
	}
	series, ok := s.productSeries(w, r, req.Product)
	if !ok {
		return
	}
	now := s.Now.UTC()
	res, ent, err := s.Store.Reserve(r.Context(), store.ReserveParams{
		IdempotencyKey: req.IdempotencyKey,
		Credential:     cred,
		Series:         series,
		Product:        req.Product,
		FromVersion:    req.FromVersion,
		ToVersion:      req.ToVersion,
		MachineID:      req.MachineID,
		Now:            now,
		TTL:            s.reservationTTL(),
		SessionID:      session,
	})
	if session != "" && (errors.Is(err, store.ErrUnknownCredential) || errors.Is(err, store.ErrInactive)) {
		writeError(w, r, http.StatusForbidden, api.CodeInactive, keyNotEnabled(cred.HWKeySerial))
		return
	}
	if err != nil {
		if errors.Is(err, store.ErrUnknownCredential) {
			at.fail()
			s.metrics().CredentialFailed(metrics.CredProCode)
		}
		s.storeError(w, r, err, req.Product, series)
		return
	}
	at.succeed()
	s.recordPath(r, req, res)
	metrics.NoteOutcome(r, reserveOutcome(res, now))
	fault.Hit(fault.ServerAfterReserveCommit)
	s.logger().Info("reserved", "reservation", res.ID, "customer", ent.Customer, "product", res.Product,
		"from", res.FromVersion, "to", res.ToVersion, "machine", res.MachineID, "remaining", ent.Remaining)
	writeJSON(w, http.StatusOK, reservationResponse(res, ent))
}

// productSeries finds the series a product is published under, answering
// not_found for an unknown product.
func (s *Server) productSeries(w http.ResponseWriter, r *http.Request, product string) (string, bool) {
	if series, ok := s.series.Load(product); ok {
		return series.(string), true
	}
	series, err := s.Store.ProductSeries(r.Context(), product)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, api.CodeNotFound, i18n.M("no product named %s is published on this server", product))
		return "", false
	} else if err != nil {
		s.internalError(w, r, "looking up product", err)
		return "", false
	}
	s.series.Store(product, series)
	return series, true
}

// checkUpdateFields checks what every request about one update names: the
// product, the versions and the machine. It answers a refusal itself.
func checkUpdateFields(w http.ResponseWriter, r *http.Request, product, from, to, machine string) bool {
	var msg i18n.Message
	switch {
	case !api.ValidName(product):
		msg = i18n.M("product is required")
	case !api.ValidVersion(to) || (from != "" && !api.ValidVersion(from)):
		msg = i18n.M("from_version and to_version must be versions like 2.1.0")
	case !api.ValidName(machine):
		msg = i18n.M("machine_id is required")
	default:
		return true
	}
	writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, msg)
	return false
}

// credential turns the wire credential into the store's (and, for the
// classic series, the session it uses), answering the refusal itself. The
// credential is admitted by the limiter before it is looked up.
func (s *Server) credential(w http.ResponseWriter, r *http.Request, req api.ReserveRequest, at *attempt) (store.Credential, string, bool) {
	c := req.Credential
	switch {
	case c.Code != "" && c.Session == "" && c.InternetCode == "" && c.HWKey == nil:
		cred, ok := s.codeCredential(w, r, c.Code, at)
		return cred, "", ok
	case c.Session != "" && c.Code == "" && c.HWKey == nil:
		if !api.ValidName(c.Session) {
			writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("session is not valid"))
			return store.Credential{}, "", false
		}
		if !at.admit(w, r, keySession, c.Session, maskSession(c.Session)) {
			return store.Credential{}, "", false
		}
		return s.classicCredential(w, r, c, req, at)
	default:
		// A hardware key's proof alone opens a session; it reserves nothing.
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
			i18n.M("credential is required: an update code (Pro series), or a session with its Internet code (classic series)"))
		return store.Credential{}, "", false
	}
}

// codeCredential parses an update code and admits it to the limiter,
// answering the refusal itself.
func (s *Server) codeCredential(w http.ResponseWriter, r *http.Request, typed string, at *attempt) (store.Credential, bool) {
	code, err := api.ParseCode(typed)
	if err != nil {
		// Refused for its shape, not looked up: not counted.
		writeError(w, r, http.StatusBadRequest, api.CodeInvalidCode, localizable(err))
		return store.Credential{}, false
	}
	hash := keyring.CodeHash(s.Keys.CodeSecret, code)
	if !at.admit(w, r, keyCode, codeKey(hash), api.MaskCode(typed)) {
		return store.Credential{}, false
	}
	return store.Credential{CodeHash: hash}, true
}

func (s *Server) handleComplete(w http.ResponseWriter, r *http.Request) {
	s.finish(w, r, "completed", s.Store.Complete)
}

func (s *Server) handleRelease(w http.ResponseWriter, r *http.Request) {
	s.finish(w, r, "released", s.Store.Release)
}

func (s *Server) finish(w http.ResponseWriter, r *http.Request, what string,
	op func(ctx context.Context, id string, now time.Time) (store.Reservation, store.Entitlement, error)) {
	id := r.PathValue("id")
	if !api.ValidName(id) {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("reservation id is not valid"))
		return
	}
	if !readEmptyBody(w, r) {
		return
	}
	now := s.Now.UTC()
	res, ent, err := op(r.Context(), id, now)
	if err != nil {
		s.storeError(w, r, err, "", "")
		return
	}
	metrics.NoteOutcome(r, finishOutcome(what, res, now))
	s.logger().Info(what, "reservation", res.ID, "customer", ent.Customer, "state", res.State, "remaining", ent.Remaining)
	writeJSON(w, http.StatusOK, reservationResponse(res, ent))
}

func reservationResponse(res store.Reservation, ent store.Entitlement) api.ReservationResponse {
	return api.ReservationResponse{
		Reservation: api.Reservation{
			ID:          res.ID,
			State:       res.State,
			Product:     res.Product,
			FromVersion: res.FromVersion,
			ToVersion:   res.ToVersion,
			ExpiresAt:   res.ExpiresAt,
		},
		Remaining: ent.Remaining,
	}
}

// storeError maps a store condition to the API's error code and a message
// that tells the customer what to do.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error, product, series string) {
	switch {
	case errors.Is(err, store.ErrUnknownCredential):
		writeError(w, r, http.StatusForbidden, api.CodeUnknownCredential,
			i18n.M("this update code is not known to the server; check it against your receipt, or ask your vendor to activate it"))
	case errors.Is(err, store.ErrInactive):
		writeError(w, r, http.StatusForbidden, api.CodeInactive,
			i18n.M("this credential is not active; contact your vendor or regional distributor"))
	case errors.Is(err, store.ErrWrongSeries):
		writeError(w, r, http.StatusForbidden, api.CodeWrongSeries, wrongSeries(product, series))
	case errors.Is(err, store.ErrExhausted):
		writeError(w, r, http.StatusConflict, api.CodeExhausted,
			i18n.M("no paid updates remain for this credential; buy more updates from your vendor or regional distributor"))
	case errors.Is(err, store.ErrSessionUsed):
		writeError(w, r, http.StatusConflict, api.CodeExpired,
			i18n.M("this Internet code was already used; start the update again to get a new one"))
	case errors.Is(err, store.ErrIdempotencyMismatch):
		writeError(w, r, http.StatusConflict, api.CodeConflict,
			i18n.M("this request reuses the idempotency key of an earlier, different request; run the update again (a new request gets a new key)"))
	case errors.Is(err, store.ErrNotFound):
		writeError(w, r, http.StatusNotFound, api.CodeNotFound, i18n.M("no such reservation"))
	case errors.Is(err, store.ErrConflict):
		writeError(w, r, http.StatusConflict, api.CodeConflict, localizable(err))
	default:
		s.internalError(w, r, "store", err)
	}
}

// wrongSeries is the refusal of a credential of the other series.
func wrongSeries(product, series string) i18n.Message {
	if series == api.SeriesClassic {
		return i18n.M("%s is a classic-series product: it is updated with its hardware key, not with an update code", product)
	}
	return i18n.M("%s is a Pro-series product: it is updated with a 25-digit update code, not a hardware key", product)
}

// keyNotEnabled is the refusal of a hardware key whose site access is not
// enabled (or that the server does not know).
func keyNotEnabled(serial string) i18n.Message {
	return i18n.M("site access is not enabled for hardware key %s; ask your vendor or regional distributor to activate updates for it", serial)
}

// localizable shows an error in the reader's language when it can say its
// format (api, hwkey and i18n errors), else as Go wrote it.
func localizable(err error) i18n.Message { return i18n.M("%v", err) }

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.logger().Error(what, "err", err)
	writeError(w, r, http.StatusInternalServerError, api.CodeInternal,
		i18n.M("the server failed (%s); try again later, and tell your vendor if it persists", strings.ReplaceAll(what, "\n", " ")))
}
