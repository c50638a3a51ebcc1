package api

import (
	"fmt"
	"strings"

	"golang.org/x/mod/semver"
)

// Versions are semantic versions written without the leading "v"
// ("1.0.0", "2.1.0-rc.1"). Ordering is semver's.

// ValidVersion reports whether v is a full semantic version (MAJOR.MINOR.PATCH
// with optional pre-release), without a "v" prefix.
func ValidVersion(v string) bool {
	if v == "" || strings.HasPrefix(v, "v") || strings.Contains(v, "+") {
		return false
	}
	sv := "v" + v
	return semver.IsValid(sv) && semver.Canonical(sv) == sv
}

// CheckVersion returns an error that says what a valid version looks like.
func CheckVersion(v string) error {
	if !ValidVersion(v) {
		return fmt.Errorf("version %q is not of the form MAJOR.MINOR.PATCH (e.g. 2.1.0 or 2.1.0-rc.1)", v)
	}
	return nil
}

// CompareVersions returns -1, 0 or +1 as a is older than, equal to, or newer
// than b. Invalid versions sort before valid ones.
func CompareVersions(a, b string) int { return semver.Compare("v"+a, "v"+b) }

// CanonicalVersion is the form under which equal versions compare equal
// as strings (1.2 and 1.2.0 are one version).
func CanonicalVersion(v string) string {
	return strings.TrimPrefix(semver.Canonical("v"+v), "v")
}
