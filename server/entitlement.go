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
	ent, ok := s.queriedEntitlement(w, r, req.Product, req.Credential, at)
	if !ok {
		return
	}
	s.answerEntitlement(w, r, req.Product, ent, at)
}

// queriedEntitlement finds the entitlement of a credential as an
// entitlement query takes it (an update code, or a hardware key's proof),
// refusing it as reserve would; it answers a refusal itself. An
// entitlement with no updates left is found (a query answers remaining
// 0, a first install may still install what it paid for).
func (s *Server) queriedEntitlement(w http.ResponseWriter, r *http.Request, product string, c api.Credential, at *attempt) (store.Entitlement, bool) {
	switch {
	case c.Code != "" && c.HWKey == nil && c.Session == "" && c.InternetCode == "":
		cred, ok := s.codeCredential(w, r, c.Code, at)
		if !ok {
			return store.Entitlement{}, false
		}
		return s.codeEntitlement(w, r, product, cred, at)
	case c.HWKey != nil && c.Code == "" && c.Session == "" && c.InternetCode == "":
		return s.keyEntitlement(w, r, product, *c.HWKey, at)
	}
	writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
		i18n.M("credential is required: an update code (Pro series), or a hardware key's licence with its signature of a server challenge (classic series)"))
	return store.Entitlement{}, false
}

// codeEntitlement finds an update code's entitlement, refusing it as
// reserve would: an unknown code (a failed attempt), then an inactive one,
// then one for the other series.
func (s *Server) codeEntitlement(w http.ResponseWriter, r *http.Request, product string, cred store.Credential, at *attempt) (store.Entitlement, bool) {
	series, ok := s.productSeries(w, r, product)
	if !ok {
		return store.Entitlement{}, false
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
		return ent, true
	}
	return store.Entitlement{}, false
}

// keyEntitlement finds the entitlement of a hardware key that proves it
// is present, as opening a session does: a key for a Pro product is the
// wrong series, and a key without site access is inactive.
func (s *Server) keyEntitlement(w http.ResponseWriter, r *http.Request, product string, proof api.HWKeyProof, at *attempt) (store.Entitlement, bool) {
	lic, ok := s.verifyKeyProof(w, r, proof, product, s.Now.UTC(), at)
	if !ok {
		return store.Entitlement{}, false
	}
	series, ok := s.productSeries(w, r, product)
	if !ok {
		return store.Entitlement{}, false
	}
	if series != api.SeriesClassic {
		writeError(w, r, http.StatusForbidden, api.CodeWrongSeries, wrongSeries(product, series))
		return store.Entitlement{}, false
	}
	ent, err := s.Store.Entitlement(r.Context(), store.Credential{HWKeySerial: lic.Serial})
	switch {
	case errors.Is(err, store.ErrUnknownCredential) || (err == nil && (!ent.Active || ent.Series != series)):
		writeError(w, r, http.StatusForbidden, api.CodeInactive, keyNotEnabled(lic.Serial))
	case err != nil:
		s.internalError(w, r, "looking up entitlement", err)
	default:
		return ent, true
	}
	return store.Entitlement{}, false
}

func (s *Server) answerEntitlement(w http.ResponseWriter, r *http.Request, product string, ent store.Entitlement, at *attempt) {
	at.succeed()
	s.logger().Info("entitlement queried", "customer", ent.Customer, "product", product, "remaining", ent.Remaining, "held", ent.Held)
	writeJSON(w, http.StatusOK, api.EntitlementStatus{
		Product: product, Series: ent.Series, Active: ent.Active, Remaining: ent.Remaining, Held: ent.Held,
	})
}
