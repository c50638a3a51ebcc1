package api

import "time"

// Field reports (POST /v1/reports): what happened to each attempt at an
// update in the field, sent by the installer after every update and check
// run, best-effort and apart from the completion that counts a paid update.
// A report carries no personal data: no name, address, credential, path
// or machine ID, only Installation, a one-way hash (see FieldReport).

// Outcomes of an attempt (FieldReport.Outcome).
const (
	// OutcomeChecked: an update was offered, and the run went no further
	// (aktual check, or the confirmation was declined).
	OutcomeChecked = "checked"
	// OutcomeDownloaded: the release was downloaded and verified, and the
	// run stopped before installing it for a reason of the customer's
	// (interrupted, or the credential was not given): Cause says which.
	OutcomeDownloaded = "downloaded"
	// OutcomeApplied: the new version is installed (the update succeeded).
	OutcomeApplied = "applied"
	// OutcomeRolledBack: the new version failed its health check and the
	// old one was put back.
	OutcomeRolledBack = "rolled_back"
	// OutcomeFailed: the attempt failed; Cause says why.
	OutcomeFailed = "failed"
)

// ValidOutcome reports whether o is one of the outcomes.
func ValidOutcome(o string) bool {
	switch o {
	case OutcomeChecked, OutcomeDownloaded, OutcomeApplied, OutcomeRolledBack, OutcomeFailed:
		return true
	}
	return false
}

// Bounds of a batch of field reports.
const (
	// MaxReportBatch is the most reports one request carries.
	MaxReportBatch = 50
	// MaxReportBody bounds the request's body: 50 reports of some 600
	// bytes each, with room to spare.
	MaxReportBody = 64 << 10
	// MaxReportWord bounds the short machine words of a report: cause,
	// channel, installer version, OS and arch.
	MaxReportWord = 64
	// ReportIDLen and InstallationIDLen are the lengths, in lowercase hex
	// digits, of a report's ID (128 random bits) and an installation's
	// (128 bits of a SHA-256).
	ReportIDLen       = 32
	InstallationIDLen = 32
	// MaxPhaseMS bounds a phase's duration (a week): a longer one is a
	// clock's mistake.
	MaxPhaseMS = 7 * 24 * 3600 * 1000
)

// ReportBatch is the body of POST /v1/reports.
type ReportBatch struct {
	Reports []FieldReport `json:"reports"`
}

// FieldReport is what one run of the installer says about one attempt at
// an update.
type FieldReport struct {
	// ID is random (ReportIDLen hex digits), chosen once: a report sent
	// again (a lost answer, a report kept for a later run) is counted once.
	ID      string `json:"id"`
	Product string `json:"product"`
	// Installation names one installed program, and nothing else: the
	// first 32 hex digits of the SHA-256 of the machine's protected ID
	// (already an app-keyed hash, never the raw ID), the product and the
	// program's absolute path. The server cannot turn it back into any of
	// them; two programs on one machine are two installations.
	Installation string `json:"installation"`
	FromVersion  string `json:"from_version"`
	ToVersion    string `json:"to_version"`
	Channel      string `json:"channel,omitempty"` // "" is the stable channel
	Outcome      string `json:"outcome"`
	// ExitCode is the aktual exit code of the run; Cause, for an attempt
	// that did not succeed, the name of its error (the result's
	// error_code: credential_rejected, apply_failed, interrupted…).
	ExitCode int    `json:"exit_code"`
	Cause    string `json:"cause,omitempty"`
	// PhasesMS is how long each phase of the run took.
	PhasesMS ReportPhases `json:"phases_ms"`
	// Forced: a release staff forced (a free downgrade replacing a
	// withdrawn version), or one taken before its staged rollout reached
	// the installation (aktual --force). Recovered: the attempt was finished by a later
	// run's recovery, after a crash or a cut line.
	Forced    bool   `json:"forced,omitempty"`
	Recovered bool   `json:"recovered,omitempty"`
	Installer string `json:"installer"` // aktual's own version
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	// At is when the run ended, by the installer's clock.
	At time.Time `json:"at"`
}

// ReportPhases are the durations of an update's phases, in milliseconds;
// 0 for a phase the run did not reach.
type ReportPhases struct {
	Check    int64 `json:"check,omitempty"`
	Download int64 `json:"download,omitempty"`
	Verify   int64 `json:"verify,omitempty"`
	Reserve  int64 `json:"reserve,omitempty"`
	Apply    int64 `json:"apply,omitempty"`
	Health   int64 `json:"health,omitempty"`
	Complete int64 `json:"complete,omitempty"`
}

// ReportsAccepted answers a batch (202): how many reports were new, and
// how many the server already had (sent before: counted once).
type ReportsAccepted struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}
