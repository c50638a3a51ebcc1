package server

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

// askedRoot reads ?root=N, the root version the client trusts (0 when it
// does not say: an installer from before root rotation, whose strict
// decoding would refuse the roots field). It is normalised to 0 unless N
// is before the server's root, the only case in which the answer carries
// links: so the "latest" cache keeps one entry per question for every
// client at the newest root, asked or not. A malformed N is answered 400
// (false).
func (s *Server) askedRoot(w http.ResponseWriter, r *http.Request, q url.Values) (int64, bool) {
	if !q.Has(api.QueryRoot) {
		return 0, true
	}
	v, err := strconv.ParseInt(q.Get(api.QueryRoot), 10, 64)
	if err != nil || v < 1 {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("root must be the version of the root key the installer trusts, a whole number from 1"))
		return 0, false
	}
	if v >= s.Keys.Roots.Root() {
		return 0, true
	}
	return v, true
}
