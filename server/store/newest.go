package store

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
)

// Newest picks the highest stable version that no release
// withdrew; nil for none. A pre-release (2.1.0-rc.1) is published for staff
// to try by version and is never offered to customers as the latest. A
// release published with --downgrade-from withdraws the versions it names.
func Newest(rs []Release) *Release {
	return newestOffered(rs, withdrawn(rs), func(Release) bool { return true })
}

// withdrawn is the set of (canonical) versions some release of rs withdraws.
func withdrawn(rs []Release) map[string]bool {
	out := map[string]bool{}
	for _, r := range rs {
		for _, v := range DowngradeFrom(r) {
			out[api.CanonicalVersion(v)] = true
		}
	}
	return out
}

// offered: a release customers may be given, neither a pre-release nor
// withdrawn.
func offered(r Release, gone map[string]bool) bool {
	return !strings.Contains(r.Version, "-") && !gone[api.CanonicalVersion(r.Version)]
}

// newestOffered picks the highest offered release for which ok holds.
func newestOffered(rs []Release, gone map[string]bool, ok func(Release) bool) *Release {
	var best *Release
	for i := range rs {
		if !offered(rs[i], gone) || !ok(rs[i]) {
			continue
		}
		if best == nil || api.CompareVersions(rs[i].Version, best.Version) > 0 {
			best = &rs[i]
		}
	}
	return best
}

// InstallableRelease is the release an entitlement may install first
// (POST /v1/install), among a product's releases rs for one platform.
// With E the newest of consumed (the to-versions of its consumed
// reservations for the product) and A the newest release published at
// or before activated (when the entitlement was made; not a pre-release,
// withdrawn since or not), it is the newest offered release not above
// max(E, A) (for a withdrawn A, what replaces it); if there is none
// (the product's first release came after the activation and nothing was
// consumed), the oldest offered release. Offered means as for Newest:
// not a pre-release, not withdrawn by any release. Nil when nothing is
// offered.
func InstallableRelease(rs []Release, consumed []string, activated time.Time) *Release {
	gone := withdrawn(rs)
	ceiling := ""
	// A counts a release withdrawn since: the customer was sold what was
	// current then, and gets what replaces it, as everyone who has it does.
	if a := newestOffered(rs, nil, func(r Release) bool { return !r.PublishedAt.After(activated) }); a != nil {
		ceiling = a.Version
	}
	for _, v := range consumed {
		if api.ValidVersion(v) && (ceiling == "" || api.CompareVersions(v, ceiling) > 0) {
			ceiling = v
		}
	}
	if ceiling != "" {
		if r := newestOffered(rs, gone, func(r Release) bool { return api.CompareVersions(r.Version, ceiling) <= 0 }); r != nil {
			return r
		}
	}
	var oldest *Release
	for i := range rs {
		if offered(rs[i], gone) && (oldest == nil || api.CompareVersions(rs[i].Version, oldest.Version) < 0) {
			oldest = &rs[i]
		}
	}
	return oldest
}

// DowngradeFrom reads the versions a stored release withdraws, from its
// signed statement (the server's own, verified when published).
func DowngradeFrom(r Release) []string {
	st, ok := statement(r)
	if !ok {
		return nil
	}
	return st.DowngradeFrom
}

// IsFolder reports whether a stored release is a program folder (its
// signed statement's Kind): its artifact is a manifest, not a program.
func IsFolder(r Release) bool {
	st, ok := statement(r)
	return ok && st.IsFolder()
}

func statement(r Release) (api.ReleaseStatement, bool) {
	var env api.Envelope
	var st api.ReleaseStatement
	if json.Unmarshal(r.Envelope, &env) != nil || json.Unmarshal(env.Payload, &st) != nil {
		return api.ReleaseStatement{}, false
	}
	return st, true
}
