package sqlite

// schemaV7 adds release control (issue 20): for each version of a
// product, the channels that carry it, how far its staged rollout
// reaches, whether it is critical, halted or withdrawn for good, the
// version older installations pass through first, the automatic brake,
// and the release notes signed at publish time. A version without a row
// is live on the stable channel for everyone. Times are Unix
// nanoseconds, as in the staff tables. path_steps records, for a paid
// update that is the first step of a required path, the release the path
// ends at: its later steps are free.
const schemaV7 = `
CREATE TABLE release_controls (
	product     TEXT    NOT NULL CHECK (product <> ''),
	version     TEXT    NOT NULL CHECK (version <> ''),
	channels    TEXT    NOT NULL DEFAULT 'stable' CHECK (channels <> ''),
	percent     INTEGER NOT NULL DEFAULT 100 CHECK (percent BETWEEN 0 AND 100),
	critical    INTEGER NOT NULL DEFAULT 0 CHECK (critical IN (0, 1)),
	state       TEXT    NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'halted', 'yanked')),
	requires    TEXT    NOT NULL DEFAULT '',
	brake_after INTEGER NOT NULL DEFAULT 0 CHECK (brake_after >= 0),
	brake_rate  INTEGER NOT NULL DEFAULT 0 CHECK (brake_rate BETWEEN 0 AND 100),
	notes       BLOB,
	reason      TEXT    NOT NULL DEFAULT '',
	changed_by  TEXT    NOT NULL DEFAULT '',
	changed_at  INTEGER NOT NULL,
	PRIMARY KEY (product, version)
) STRICT;

CREATE TABLE path_steps (
	reservation_id TEXT NOT NULL PRIMARY KEY REFERENCES reservations (id),
	product        TEXT NOT NULL,
	machine_id     TEXT NOT NULL,
	path_to        TEXT NOT NULL CHECK (path_to <> '')
) STRICT;

CREATE INDEX path_steps_by_machine ON path_steps (machine_id, product);
`
