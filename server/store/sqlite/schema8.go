package sqlite

// schemaV8 adds field reports (issue 20): what installers report of each
// attempt at an update (field_reports, append only, one row per report
// ID), and two summaries kept with every report so that counting needs no
// scan of the reports: field_attempts, per release, channel and
// installation, what that installation reached (the time of its first
// attempt, whether it applied, rolled back, failed), and
// field_installations, the version each installation is now on. Times are
// Unix nanoseconds, as in the PostgreSQL store (package storesql). The
// store's comment (server/store/reports.go) says what is counted.
const schemaV8 = `
CREATE TABLE field_reports (
	id           TEXT    PRIMARY KEY,
	product      TEXT    NOT NULL,
	installation TEXT    NOT NULL,
	from_version TEXT    NOT NULL,
	to_version   TEXT    NOT NULL,
	channel      TEXT    NOT NULL DEFAULT '',
	outcome      TEXT    NOT NULL CHECK (outcome IN ('checked', 'downloaded', 'applied', 'rolled_back', 'failed')),
	exit_code    INTEGER NOT NULL,
	cause        TEXT    NOT NULL DEFAULT '',
	check_ms     INTEGER NOT NULL DEFAULT 0,
	download_ms  INTEGER NOT NULL DEFAULT 0,
	verify_ms    INTEGER NOT NULL DEFAULT 0,
	reserve_ms   INTEGER NOT NULL DEFAULT 0,
	apply_ms     INTEGER NOT NULL DEFAULT 0,
	health_ms    INTEGER NOT NULL DEFAULT 0,
	complete_ms  INTEGER NOT NULL DEFAULT 0,
	forced       INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
	recovered    INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1)),
	installer    TEXT    NOT NULL,
	os           TEXT    NOT NULL,
	arch         TEXT    NOT NULL,
	reported_at  INTEGER NOT NULL,
	received_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX field_reports_by_release ON field_reports (product, to_version, outcome);

CREATE TABLE field_attempts (
	product      TEXT    NOT NULL,
	to_version   TEXT    NOT NULL,
	channel      TEXT    NOT NULL,
	installation TEXT    NOT NULL,
	first_at     INTEGER NOT NULL,
	attempted_at INTEGER NOT NULL DEFAULT 0,
	applied      INTEGER NOT NULL DEFAULT 0 CHECK (applied IN (0, 1)),
	rolled_back  INTEGER NOT NULL DEFAULT 0 CHECK (rolled_back IN (0, 1)),
	failed       INTEGER NOT NULL DEFAULT 0 CHECK (failed IN (0, 1)),
	PRIMARY KEY (product, to_version, channel, installation)
) STRICT, WITHOUT ROWID;

CREATE INDEX field_attempts_in_order ON field_attempts (product, to_version, attempted_at);

CREATE TABLE field_installations (
	product      TEXT    NOT NULL,
	installation TEXT    NOT NULL,
	version      TEXT    NOT NULL,
	channel      TEXT    NOT NULL,
	reported_at  INTEGER NOT NULL,
	PRIMARY KEY (product, installation)
) STRICT, WITHOUT ROWID;

CREATE INDEX field_installations_by_version ON field_installations (product, version, channel);
`
