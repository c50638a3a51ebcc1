package postgres

// schemaV8 adds field reports (issue 20): what installers report of each
// attempt at an update (field_reports, append only, one row per report
// ID), and two summaries kept with every report so that counting needs no
// scan of the reports: field_attempts, per release, channel and
// installation, what that installation reached (the time of its first
// attempt, whether it applied, rolled back, failed), and
// field_installations, the version each installation is now on. Times are
// Unix nanoseconds (bigint), as in the SQLite store (package storesql). The
// store's comment (server/store/reports.go) says what is counted.
const schemaV8 = `
CREATE TABLE field_reports (
	id           text    PRIMARY KEY,
	product      text    NOT NULL,
	installation text    NOT NULL,
	from_version text    NOT NULL,
	to_version   text    NOT NULL,
	channel      text    NOT NULL DEFAULT '',
	outcome      text    NOT NULL CHECK (outcome IN ('checked', 'downloaded', 'applied', 'rolled_back', 'failed')),
	exit_code    bigint  NOT NULL,
	cause        text    NOT NULL DEFAULT '',
	check_ms     bigint  NOT NULL DEFAULT 0,
	download_ms  bigint  NOT NULL DEFAULT 0,
	verify_ms    bigint  NOT NULL DEFAULT 0,
	reserve_ms   bigint  NOT NULL DEFAULT 0,
	apply_ms     bigint  NOT NULL DEFAULT 0,
	health_ms    bigint  NOT NULL DEFAULT 0,
	complete_ms  bigint  NOT NULL DEFAULT 0,
	forced       bigint  NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
	recovered    bigint  NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1)),
	installer    text    NOT NULL,
	os           text    NOT NULL,
	arch         text    NOT NULL,
	reported_at  bigint  NOT NULL,
	received_at  bigint  NOT NULL
);

CREATE INDEX field_reports_by_release ON field_reports (product, to_version, outcome);

CREATE TABLE field_attempts (
	product      text    NOT NULL,
	to_version   text    NOT NULL,
	channel      text    NOT NULL,
	installation text    NOT NULL,
	first_at     bigint  NOT NULL,
	attempted_at bigint  NOT NULL DEFAULT 0,
	applied      bigint  NOT NULL DEFAULT 0 CHECK (applied IN (0, 1)),
	rolled_back  bigint  NOT NULL DEFAULT 0 CHECK (rolled_back IN (0, 1)),
	failed       bigint  NOT NULL DEFAULT 0 CHECK (failed IN (0, 1)),
	PRIMARY KEY (product, to_version, channel, installation)
);

CREATE INDEX field_attempts_in_order ON field_attempts (product, to_version, attempted_at);

CREATE TABLE field_installations (
	product      text    NOT NULL,
	installation text    NOT NULL,
	version      text    NOT NULL,
	channel      text    NOT NULL,
	reported_at  bigint  NOT NULL,
	PRIMARY KEY (product, installation)
);

CREATE INDEX field_installations_by_version ON field_installations (product, version, channel);
`
