package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/aktual/aktual/server/store/storesql"
)

// migrations[i] takes the schema from version i to i+1 (PRAGMA
// user_version). Append only: a shipped migration is never edited.
var migrations = []string{schemaV1, schemaV2, schemaV3, schemaV4, schemaV5, schemaV6, schemaV7, schemaV8, schemaV9, schemaV10}

// afterMigration[v] is Go run in the transaction right after the migration
// to version v: what SQL cannot do (fold text as Go does).
var afterMigration = map[int]func(ctx context.Context, tx *sql.Tx) error{
	6: func(ctx context.Context, tx *sql.Tx) error { return storesql.FoldCustomers(ctx, shared{tx}) },
}

// schemaV1 is the first schema. The constraints repeat what the Go code
// already ensures, as a second line of defence: a bug or a hand-typed
// UPDATE that would break the invariant is refused by SQLite itself.
const schemaV1 = `
CREATE TABLE entitlements (
	id           INTEGER PRIMARY KEY,
	customer     TEXT    NOT NULL CHECK (customer <> ''),
	series       TEXT    NOT NULL CHECK (series IN ('pro', 'classic')),
	kind         TEXT    NOT NULL CHECK (kind IN ('code', 'hwkey')),
	code_hash    BLOB    UNIQUE,
	code_hint    TEXT    NOT NULL DEFAULT '',
	hwkey_serial TEXT    UNIQUE,
	active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	purchased    INTEGER NOT NULL DEFAULT 0 CHECK (purchased >= 0),
	remaining    INTEGER NOT NULL DEFAULT 0 CHECK (remaining >= 0),
	held         INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
	consumed     INTEGER NOT NULL DEFAULT 0 CHECK (consumed >= 0),
	overdraft    INTEGER NOT NULL DEFAULT 0 CHECK (overdraft >= 0),
	created_at   TEXT    NOT NULL,
	updated_at   TEXT    NOT NULL,
	CHECK (purchased = remaining + held + consumed),
	CHECK ((series = 'pro') = (kind = 'code')),
	CHECK ((kind = 'code' AND code_hash IS NOT NULL AND hwkey_serial IS NULL)
	    OR (kind = 'hwkey' AND hwkey_serial IS NOT NULL AND code_hash IS NULL))
) STRICT;

-- One Pro code per customer covers the whole series.
CREATE UNIQUE INDEX entitlements_one_pro_per_customer ON entitlements (customer) WHERE series = 'pro';

-- A product belongs to one series; releases refer to it, so a product
-- cannot be published under two series.
CREATE TABLE products (
	name   TEXT PRIMARY KEY CHECK (name <> ''),
	series TEXT NOT NULL CHECK (series IN ('pro', 'classic'))
) STRICT;

CREATE TABLE releases (
	product      TEXT    NOT NULL REFERENCES products (name),
	version      TEXT    NOT NULL CHECK (version <> ''),
	os           TEXT    NOT NULL CHECK (os <> ''),
	arch         TEXT    NOT NULL CHECK (arch <> ''),
	sha256       TEXT    NOT NULL CHECK (length(sha256) = 64),
	size         INTEGER NOT NULL CHECK (size >= 0),
	envelope     BLOB    NOT NULL,
	published_at TEXT    NOT NULL,
	PRIMARY KEY (product, version, os, arch)
) STRICT;

CREATE INDEX releases_by_platform ON releases (product, os, arch);
CREATE INDEX releases_by_sha256 ON releases (sha256);

CREATE TABLE reservations (
	id              TEXT    PRIMARY KEY,
	idempotency_key TEXT    NOT NULL UNIQUE CHECK (idempotency_key <> ''),
	entitlement_id  INTEGER NOT NULL REFERENCES entitlements (id),
	product         TEXT    NOT NULL,
	from_version    TEXT    NOT NULL,
	to_version      TEXT    NOT NULL,
	machine_id      TEXT    NOT NULL,
	state           TEXT    NOT NULL CHECK (state IN ('held', 'consumed', 'released', 'expired')),
	created_at      TEXT    NOT NULL,
	updated_at      TEXT    NOT NULL,
	expires_at      TEXT    NOT NULL
) STRICT;

CREATE INDEX reservations_held_by_expiry ON reservations (expires_at) WHERE state = 'held';
CREATE INDEX reservations_by_entitlement ON reservations (entitlement_id, state);

-- AUTOINCREMENT: ids are never reused, so the ledger's order is its id order.
CREATE TABLE ledger (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	entitlement_id  INTEGER NOT NULL REFERENCES entitlements (id),
	reservation_id  TEXT    REFERENCES reservations (id),
	kind            TEXT    NOT NULL CHECK (kind IN ('purchase', 'reserve', 'complete', 'release', 'expire', 'retake', 'overdraft')),
	d_purchased     INTEGER NOT NULL,
	d_remaining     INTEGER NOT NULL,
	d_held          INTEGER NOT NULL,
	d_consumed      INTEGER NOT NULL,
	d_overdraft     INTEGER NOT NULL,
	at              TEXT    NOT NULL,
	-- Each row keeps the invariant on its own, so their sum does too.
	CHECK (d_purchased = d_remaining + d_held + d_consumed)
) STRICT;

CREATE INDEX ledger_by_entitlement ON ledger (entitlement_id, id);

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
`

// schemaV2 adds classic-series sessions. A session yields at most one
// reservation; a signed challenge opens at most one session.
const schemaV2 = `
CREATE TABLE classic_sessions (
	id             TEXT    PRIMARY KEY,
	serial         TEXT    NOT NULL CHECK (serial <> ''),
	product        TEXT    NOT NULL,
	from_version   TEXT    NOT NULL,
	to_version     TEXT    NOT NULL,
	machine_id     TEXT    NOT NULL,
	challenge_hash BLOB    NOT NULL UNIQUE,
	state          TEXT    NOT NULL CHECK (state IN ('open', 'confirmed', 'used', 'locked')),
	attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	reservation_id TEXT    REFERENCES reservations (id),
	created_at     TEXT    NOT NULL,
	expires_at     TEXT    NOT NULL,
	CHECK ((state = 'used') = (reservation_id IS NOT NULL))
) STRICT;
`

// schemaV3 lets a release's bytes live at an external origin or CDN: url
// is where they are, empty for the local blob store.
const schemaV3 = `
ALTER TABLE releases ADD COLUMN url TEXT NOT NULL DEFAULT '';
`

// schemaV4 adds delta patches: a bsdiff patch from one release's artifact
// to another's, of one product and platform, stored as a blob under its
// own sha256 (patch_sha256), which is then served like an artifact.
const schemaV4 = `
CREATE TABLE patches (
	product      TEXT    NOT NULL REFERENCES products (name),
	os           TEXT    NOT NULL CHECK (os <> ''),
	arch         TEXT    NOT NULL CHECK (arch <> ''),
	from_sha256  TEXT    NOT NULL CHECK (length(from_sha256) = 64),
	to_sha256    TEXT    NOT NULL CHECK (length(to_sha256) = 64),
	patch_sha256 TEXT    NOT NULL CHECK (length(patch_sha256) = 64),
	patch_size   INTEGER NOT NULL CHECK (patch_size > 0),
	PRIMARY KEY (product, os, arch, from_sha256, to_sha256),
	CHECK (from_sha256 <> to_sha256)
) STRICT;

CREATE INDEX patches_by_sha256 ON patches (patch_sha256);
`

// schemaV5 adds the files of folder releases (issue 17): each file a
// folder's manifest names is stored in the blob store under its sha256 and
// served as an artifact, so the server must know it is published. A file
// unchanged between versions is one blob named by both releases.
const schemaV5 = `
CREATE TABLE release_files (
	product TEXT NOT NULL,
	version TEXT NOT NULL,
	os      TEXT NOT NULL,
	arch    TEXT NOT NULL,
	sha256  TEXT NOT NULL CHECK (length(sha256) = 64),
	PRIMARY KEY (product, version, os, arch, sha256),
	FOREIGN KEY (product, version, os, arch) REFERENCES releases (product, version, os, arch)
) STRICT, WITHOUT ROWID;

CREATE INDEX release_files_by_sha256 ON release_files (sha256);
`

// migrate brings the schema to the newest version in one IMMEDIATE
// transaction, so two processes opening a new file at once do not both
// create it.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("the database has schema version %d, newer than this program knows (%d); use a newer aktuald", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrating schema to version %d: %w", i+1, err)
			}
			if after := afterMigration[i+1]; after != nil {
				if err := after(ctx, tx); err != nil {
					return fmt.Errorf("migrating schema to version %d: %w", i+1, err)
				}
			}
		}
		// PRAGMA takes no bound parameters; the value is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("setting schema version: %w", err)
		}
		return nil
	})
}
