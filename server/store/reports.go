package store

import (
	"context"
	"time"

	"github.com/aktual/aktual/api"
)

// This file is the storage of field reports (issue 20): what happened to
// each attempt at an update in the field, as installers report it
// (api.FieldReport), and what is counted of them per release.
//
// What is counted, per product, release (the version an attempt was at)
// and channel: each column counts distinct installations, and an
// installation counts once in every column its reports reached. One that
// failed (a mistyped code) and then succeeded counts in Failed and in
// Succeeded; one that reported twice counts once.
//
//   - Offered: installations that reported anything about the release
//     (checked, or any attempt).
//   - Started: installations that attempted it (downloaded, applied,
//     rolled back or failed: anything but checked).
//   - Succeeded: installations that reported it applied.
//   - RolledBack: installations whose new version failed its health check
//     and was put back.
//   - Failed: installations that reported a failed attempt; FailedBy
//     splits them by cause (an installation that failed for two causes
//     counts under each).
//
// Installed counts the installations per version now in the field: the
// version each installation's latest report (by the installer's clock)
// says it is on: the release it applied, else the version it had.

// FieldReport is one stored report: the wire's report as received.
type FieldReport struct {
	api.FieldReport
	ReceivedAt time.Time
}

// ReleaseStats is what was counted of one release in one channel (see
// above).
type ReleaseStats struct {
	Version    string
	Channel    string
	Offered    int
	Started    int
	Succeeded  int
	RolledBack int
	Failed     int
	FailedBy   map[string]int // cause → installations; "" for none given
	// Installed is how many installations are now on Version in Channel.
	Installed int
}

// AttemptCounts is what the first installations that attempted a release
// reported (FirstAttempts), for the automatic brake.
type AttemptCounts struct {
	// Attempted is how many installations are counted: n, or fewer when
	// fewer attempted the release.
	Attempted int
	// Failed: those whose attempts failed and never succeeded.
	Failed int
	// RolledBack: those whose new version was put back after its health
	// check failed (at least once).
	RolledBack int
}

// MaxStatsVersions bounds the releases ReleaseStats returns for a product:
// the newest ones, by version.
const MaxStatsVersions = 50

// Reports is the storage of field reports. All methods are safe for
// concurrent use.
type Reports interface {
	// AddReports records reports received at now, each once: a report
	// whose ID is already recorded is ignored. It returns how many were
	// new. The reports must be valid (the server checks them).
	AddReports(ctx context.Context, reports []api.FieldReport, now time.Time) (added int, err error)
	// ReleaseStats counts a product's field reports per release and
	// channel, newest release first, at most MaxStatsVersions releases
	// (the versions installations are on included).
	ReleaseStats(ctx context.Context, product string) ([]ReleaseStats, error)
	// FirstAttempts counts, among the first n installations that
	// attempted product's version (ordered by the time the server
	// received their first attempt), those that failed and rolled back.
	FirstAttempts(ctx context.Context, product, version string, n int) (AttemptCounts, error)
	// ReportedProducts lists the products with field reports, sorted.
	ReportedProducts(ctx context.Context) ([]string, error)
}

// VersionAfter is the version an installation is on after a report: the
// release it applied, else the one it had.
func VersionAfter(r api.FieldReport) string {
	if r.Outcome == api.OutcomeApplied {
		return r.ToVersion
	}
	return r.FromVersion
}
