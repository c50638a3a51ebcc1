package postgres

// schemaV7 adds release control (issue 20), as the SQLite store's
// schemaV7 does: for each version of a product, the channels that carry
// it, how far its staged rollout reaches, whether it is critical, halted
// or withdrawn for good, the version older installations pass through
// first, the automatic brake, and the release notes signed at publish
// time. Times are Unix nanoseconds (bigint), as in the staff tables, so
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

CREATE INDEX reservations_by_machine ON reservations (machine_id, product) WHERE state = 'consumed';
`
