package server

import (
	"encoding/json"
	"net/http"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/metrics"
	"github.com/aktual/aktual/server/store"
)

// handleInstall answers which release a credential may install first
// (POST /v1/install): the release it is entitled to
// (store.InstallableRelease), the newest one, and the key set that vouches
// for the release key. The credential is checked, limited and refused
// exactly as by an entitlement query; nothing is reserved or consumed, and
// an entitlement with no updates left may still install what it paid for.
func (s *Server) handleInstall(w http.ResponseWriter, r *http.Request) {
	at := s.newAttempt()
	defer at.end()
	if !at.admitAddr(w, r) {
		return
	}
	root, ok := s.askedRoot(w, r, r.URL.Query())
	if !ok {
		return
	}
	var req api.InstallRequest
	if !readJSON(w, r, &req) {
		return
	}
	switch {
	case !api.ValidName(req.Product):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("product is required"))
		return
	case !api.ValidName(req.OS) || !api.ValidName(req.Arch):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("os and arch are required (e.g. \"os\": \"windows\", \"arch\": \"amd64\")"))
		return
	}
	ent, ok := s.queriedEntitlement(w, r, req.Product, req.Credential, at)
	if !ok {
		return
	}
	at.succeed()
	rs, err := s.Store.Releases(r.Context(), req.Product, req.OS, req.Arch)
	if err != nil {
		s.internalError(w, r, "listing releases", err)
		return
	}
	consumed, err := s.Store.ConsumedVersions(r.Context(), ent.ID, req.Product)
	if err != nil {
		s.internalError(w, r, "listing consumed updates", err)
		return
	}
	// A first install is given what every stable installation is
	// offered: never a halted, withdrawn, staged or beta-only release.
	cs, err := s.Store.ReleaseControls(r.Context(), req.Product)
	if err != nil {
		s.internalError(w, r, "reading release controls", err)
		return
	}
	rs = store.ForEveryone(rs, cs)
	entitled, newest := store.InstallableRelease(rs, consumed, ent.CreatedAt), store.Newest(rs)
	if entitled == nil || newest == nil {
		writeError(w, r, http.StatusNotFound, api.CodeNotFound,
			i18n.M("no release of %s is published for %s/%s", req.Product, req.OS, req.Arch))
		return
	}
	resp := api.InstallResponse{Keys: s.Keys.KeySetEnvelope, Newest: newest.Version, Roots: s.Keys.RootsAfter(root)}
	if err := json.Unmarshal(entitled.Envelope, &resp.Release); err != nil {
		s.internalError(w, r, "decoding stored release envelope", err)
		return
	}
	metrics.NoteOutcome(r, metrics.OutcomeAnswered)
	s.logger().Info("install answered", "customer", ent.Customer, "product", req.Product, "os", req.OS, "arch", req.Arch,
		"version", entitled.Version, "newest", newest.Version)
	writeJSON(w, http.StatusOK, resp)
}
