package server

import (
	"errors"
	"net/http"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/metrics"
	"github.com/aktual/aktual/server/store"
)

// handleEntitlementQuery answers how many paid updates a credential has
// left for a product (aktual check), reserving nothing and changing no
// count. It is limited as a reserve is, per address and per credential,
// and a credential the server does not know counts as a failed attempt:
// asking here tells a guesser no more, and no sooner, than reserving.
// It refuses what reserve refuses with the same codes; a credential with
// no updates left is an answer (remaining 0), not a refusal.
func (s *Server) handleEntitlementQuery(w http.ResponseWriter, r *http.Request) {
	at := s.newAttempt()
	defer at.end()
	if !at.admitAddr(w, r) {
		return
	}
	var req api.EntitlementQuery
	if !readJSON(w, r, &req) {
		return
	}
	if !api.ValidName(req.Product) {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("product is required"))
		return
	}
	c := req.Credential
	switch {
	case c.Code != "" && c.HWKey == nil && c.Session == "" && c.InternetCode == "":
		cred, ok := s.codeCredential(w, r, c.Code, at)
		if !ok {
			return
		}
		s.answerCodeQuery(w, r, req.Product, cred, at)
	case c.HWKey != nil && c.Code == "" && c.Session == "" && c.InternetCode == "":
		s.answerKeyQuery(w, r, req.Product, *c.HWKey, at)
	default:
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
			i18n.M("credential is required: an update code (Pro series), or a hardware key's licence with its signature of a server challenge (classic series)"))
	}
}

// answerCodeQuery answers for an update code, refusing it as reserve
// would: an unknown code (a failed attempt), then an inactive one, then
// one for the other series.
func (s *Server) answerCodeQuery(w http.ResponseWriter, r *http.Request, product string, cred store.Credential, at *attempt) {
	series, ok := s.productSeries(w, r, product)
	if !ok {
		return
	}
	ent, err := s.Store.Entitlement(r.Context(), cred)
	switch {
	case errors.Is(err, store.ErrUnknownCredential):
		at.fail()
		s.metrics().CredentialFailed(metrics.CredProCode)
		s.storeError(w, r, err, product, series)
	case err != nil:
		s.internalError(w, r, "looking up entitlement", err)
	case !ent.Active:
		s.storeError(w, r, store.ErrInactive, product, series)
	case ent.Series != series:
		s.storeError(w, r, store.ErrWrongSeries, product, series)
	default:
		s.answerEntitlement(w, r, product, ent, at)
	}
}

// answerKeyQuery answers for a hardware key that proves it is present, as
// opening a session does: a key for a Pro product is the wrong series, and
// a key without site access is inactive.
func (s *Server) answerKeyQuery(w http.ResponseWriter, r *http.Request, product string, proof api.HWKeyProof, at *attempt) {
	lic, ok := s.verifyKeyProof(w, r, proof, product, s.Now.UTC(), at)
	if !ok {
		return
	}
	series, ok := s.productSeries(w, r, product)
	if !ok {
		return
	}
	if series != api.SeriesClassic {
		writeError(w, r, http.StatusForbidden, api.CodeWrongSeries, wrongSeries(product, series))
		return
	}
	ent, err := s.Store.Entitlement(r.Context(), store.Credential{HWKeySerial: lic.Serial})
	switch {
	case errors.Is(err, store.ErrUnknownCredential) || (err == nil && (!ent.Active || ent.Series != series)):
		writeError(w, r, http.StatusForbidden, api.CodeInactive, keyNotEnabled(lic.Serial))
	case err != nil:
		s.internalError(w, r, "looking up entitlement", err)
	default:
		s.answerEntitlement(w, r, product, ent, at)
	}
}

func (s *Server) answerEntitlement(w http.ResponseWriter, r *http.Request, product string, ent store.Entitlement, at *attempt) {
	at.succeed()
	s.logger().Info("entitlement queried", "customer", ent.Customer, "product", product, "remaining", ent.Remaining, "held", ent.Held)
	writeJSON(w, http.StatusOK, api.EntitlementStatus{
		Product: product, Series: ent.Series, Active: ent.Active, Remaining: ent.Remaining, Held: ent.Held,
	})
}
