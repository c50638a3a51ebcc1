package postgres

// schemaV7 adds release control (issue 20), as the SQLite store's
// schemaV7 does: for each version of a product, the channels that carry
// it, how far its staged rollout reaches, whether it is critical, halted
// or withdrawn for good, the version older installations pass through
// first, the automatic brake, and the release notes signed at publish
// time; and path_steps, the release a paid update's required path ends at
// (its later steps are free). Times are Unix nanoseconds (bigint), as in the staff tables, so
// that both stores run the same SQL.
const schemaV7 = `
CREATE TABLE release_controls (
	product     text    NOT NULL CHECK (product <> ''),
	version     text    NOT NULL CHECK (version <> ''),
	channels    text    NOT NULL DEFAULT 'stable' CHECK (channels <> ''),
	percent     integer NOT NULL DEFAULT 100 CHECK (percent BETWEEN 0 AND 100),
	critical    boolean NOT NULL DEFAULT false,
	state       text    NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'halted', 'yanked')),
	requires    text    NOT NULL DEFAULT '',
	brake_after integer NOT NULL DEFAULT 0 CHECK (brake_after >= 0),
	brake_rate  integer NOT NULL DEFAULT 0 CHECK (brake_rate BETWEEN 0 AND 100),
	notes       bytea,
	reason      text    NOT NULL DEFAULT '',
	changed_by  text    NOT NULL DEFAULT '',
	changed_at  bigint  NOT NULL,
	PRIMARY KEY (product, version)
);

CREATE TABLE path_steps (
	reservation_id text NOT NULL PRIMARY KEY REFERENCES reservations (id),
	product        text NOT NULL,
	machine_id     text NOT NULL,
	path_to        text NOT NULL CHECK (path_to <> '')
);

CREATE INDEX path_steps_by_machine ON path_steps (machine_id, product);
`
