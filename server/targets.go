package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/store"
)

// A reserve holds a paid update, so it must name an update that exists: a
// published release of the product that is newer than the installed one,
// or an offered downgrade from it (a release published with
// --downgrade-from naming the installed version). Anything else — a
// version never published, the same version, an older one — is refused
// before the credential is looked at, and nothing is held.

// targetsRecheck is how often at most an unknown version sends the server
// back to the store, unless this process published since: a version
// another replica published a moment ago is found then, and a flood of
// made-up versions costs one read a second.
const targetsRecheck = time.Second

// productTargets is what the server knows of a product's published
// versions (canonical, every platform): for each, the versions its
// release withdraws.
type productTargets struct {
	mu       sync.Mutex
	read     time.Time // when the store was last asked; zero: never
	changes  uint64    // the server's Changes count then
	versions map[string][]string
}

// checkTarget answers a refusal and returns false unless to is an update
// for from (see above).
func (s *Server) checkTarget(w http.ResponseWriter, r *http.Request, product, from, to, key string) bool {
	if api.CompareVersions(to, from) == 0 {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
			i18n.M("to_version %s is the installed version: there is nothing to update", to))
		return false
	}
	withdraws, known, err := s.publishedVersion(r.Context(), product, to)
	if err != nil {
		s.internalError(w, r, "listing releases", err)
		return false
	}
	if !known {
		writeError(w, r, http.StatusNotFound, api.CodeNotFound,
			i18n.M("version %s of %s is not published on this server; update to a published version (aktual check shows the newest)", to, product))
		return false
	}
	if !s.checkLive(w, r, product, to, key) {
		return false
	}
	if api.CompareVersions(to, from) > 0 {
		return true
	}
	for _, v := range withdraws {
		if api.CompareVersions(v, from) == 0 {
			return true
		}
	}
	writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
		i18n.M("to_version %s is older than the installed %s, and no downgrade to it is offered: an update goes to a newer version", to, from))
	return false
}

// publishedVersion reports whether version of product is published, and
// what its release withdraws. A version once seen stays known (releases are
// never removed); an unknown one is looked up again at most every
// targetsRecheck.
func (s *Server) publishedVersion(ctx context.Context, product, version string) (withdraws []string, known bool, err error) {
	v, _ := s.targets.LoadOrStore(product, &productTargets{})
	pt := v.(*productTargets)
	pt.mu.Lock()
	defer pt.mu.Unlock()
	canon := api.CanonicalVersion(version)
	if w, ok := pt.versions[canon]; ok {
		return w, true, nil
	}
	now := time.Now() // the wall clock: this paces reads of the store, whatever a test's clock says
	changes := s.Changes.Count()
	if !pt.read.IsZero() && now.Sub(pt.read) < targetsRecheck && changes == pt.changes {
		return nil, false, nil // a publish through this process would have counted
	}
	all, err := s.Store.AllReleases(ctx)
	if err != nil {
		return nil, false, err
	}
	pt.read, pt.changes, pt.versions = now, changes, map[string][]string{}
	for _, rel := range all {
		if rel.Product == product {
			pt.versions[api.CanonicalVersion(rel.Version)] = append(pt.versions[api.CanonicalVersion(rel.Version)], store.DowngradeFrom(rel)...)
		}
	}
	w, ok := pt.versions[canon]
	return w, ok, nil
}

// checkLive answers a refusal and returns false when staff halted or
// withdrew version of product. The store is read on every reserve, not
// cached: a halt takes effect at once on every replica for paying, even
// for an installer that was offered the release a moment before. A
// repeat of a reserve made before the halt (its idempotency key) is let
// through: the store answers it with the first reservation, which the
// installer then finishes or gives back.
func (s *Server) checkLive(w http.ResponseWriter, r *http.Request, product, version, key string) bool {
	cs, err := s.Store.ReleaseControls(r.Context(), product)
	if err != nil {
		s.internalError(w, r, "reading release controls", err)
		return false
	}
	state := store.ControlOf(cs, product, version).State
	if state != store.ControlLive && key != "" {
		if _, _, err := s.Store.ReservationByKey(r.Context(), key); err == nil {
			return true
		}
	}
	switch state {
	case store.ControlHalted:
		writeError(w, r, http.StatusConflict, api.CodeHalted,
			i18n.M("the vendor halted %s %s while you were updating; nothing was reserved or installed; try again later", product, version))
		return false
	case store.ControlYanked:
		writeError(w, r, http.StatusConflict, api.CodeHalted,
			i18n.M("the vendor withdrew %s %s; nothing was reserved or installed; run aktual check to see what is offered now", product, version))
		return false
	}
	return true
}

// checkPath answers a refusal and returns false when a reserve names a
// required path (path_to) that is not one: the release it ends at must
// require a version newer than the installed one, and be newer than the
// update reserved.
func (s *Server) checkPath(w http.ResponseWriter, r *http.Request, req api.ReserveRequest) bool {
	if req.PathTo == "" {
		return true
	}
	cs, err := s.Store.ReleaseControls(r.Context(), req.Product)
	if err != nil {
		s.internalError(w, r, "reading release controls", err)
		return false
	}
	c := store.ControlOf(cs, req.Product, req.PathTo)
	if !api.ValidVersion(req.PathTo) || c.Requires == "" || api.CompareVersions(req.FromVersion, c.Requires) >= 0 ||
		api.CompareVersions(req.ToVersion, req.PathTo) >= 0 {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
			i18n.M("path_to %s is not a required path from %s: leave it out, or run aktual check again", req.PathTo, req.FromVersion))
		return false
	}
	return true
}

// recordPath records a reserved first step of a required path. A failure
// is logged: the update goes on, and only the path's later steps are
// then paid as ordinary updates.
func (s *Server) recordPath(r *http.Request, req api.ReserveRequest, res store.Reservation) {
	if req.PathTo == "" {
		return
	}
	if err := s.Store.RecordPathStep(r.Context(), res.ID, req.Product, req.MachineID, req.PathTo); err != nil {
		s.logger().Error("the first step of a required path was not recorded; its later steps will be paid",
			"reservation", res.ID, "path_to", req.PathTo, "err", err)
	}
}
