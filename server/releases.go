package server

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

// handleReleases lists a product's releases for a platform, newest first
// (at most api.MaxListedReleases), with the key set that vouches for
// their signatures: what an installer needs to recognise the version of a
// program folder it did not install. Releases are public, as the latest
// answer and the artifacts are.
func (s *Server) handleReleases(w http.ResponseWriter, r *http.Request) {
	product := r.PathValue("product")
	q := r.URL.Query()
	goos, arch := q.Get("os"), q.Get("arch")
	switch {
	case !api.ValidName(product):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("product name is not valid"))
		return
	case !api.ValidName(goos) || !api.ValidName(arch):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("os and arch query parameters are required (e.g. ?os=linux&arch=amd64)"))
		return
	}
	root, ok := s.askedRoot(w, r, q)
	if !ok {
		return
	}
	rs, err := s.Store.Releases(r.Context(), product, goos, arch)
	if err != nil {
		s.internalError(w, r, "listing releases", err)
		return
	}
	if len(rs) == 0 {
		writeError(w, r, http.StatusNotFound, api.CodeNotFound, i18n.M("no release of %s is published for %s/%s", product, goos, arch))
		return
	}
	sort.Slice(rs, func(i, j int) bool { return api.CompareVersions(rs[i].Version, rs[j].Version) > 0 })
	resp := api.ReleasesResponse{Keys: s.Keys.KeySetEnvelope, Roots: s.Keys.RootsAfter(root)}
	for _, rel := range rs[:min(len(rs), api.MaxListedReleases)] {
		var env api.Envelope
		if err := json.Unmarshal(rel.Envelope, &env); err != nil {
			s.internalError(w, r, "decoding stored release envelope", err)
			return
		}
		resp.Releases = append(resp.Releases, env)
	}
	writeJSON(w, http.StatusOK, resp)
}
