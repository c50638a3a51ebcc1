package store

import (
	"encoding/json"
	"strings"

	"github.com/aktual/aktual/api"
)

// Newest picks the highest stable version that no release
// withdrew; nil for none. A pre-release (2.1.0-rc.1) is published for staff
// to try by version and is never offered to customers as the latest. A
// release published with --downgrade-from withdraws the versions it names.
func Newest(rs []Release) *Release {
	withdrawn := map[string]bool{}
	for _, r := range rs {
		for _, v := range DowngradeFrom(r) {
			withdrawn[api.CanonicalVersion(v)] = true
		}
	}
	var best *Release
	for i := range rs {
		if strings.Contains(rs[i].Version, "-") || withdrawn[api.CanonicalVersion(rs[i].Version)] {
			continue
		}
		if best == nil || api.CompareVersions(rs[i].Version, best.Version) > 0 {
			best = &rs[i]
		}
	}
	return best
}

// DowngradeFrom reads the versions a stored release withdraws, from its
// signed statement (the server's own, verified when published).
func DowngradeFrom(r Release) []string {
	var env api.Envelope
	var st api.ReleaseStatement
	if json.Unmarshal(r.Envelope, &env) != nil || json.Unmarshal(env.Payload, &st) != nil {
		return nil
	}
	return st.DowngradeFrom
}
