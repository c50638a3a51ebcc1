package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store/storesql"
)

// migrations[i] takes the schema from version i to i+1, recorded in
// schema_migrations. Append only: a shipped migration is never edited.
// The versions mean what the SQLite store's do (v2 adds classic sessions,
// v3 a release's url, v4 patches, v5 folder releases' files, v6 staff and
// the ledger's actors), so "schema version 3" names one schema everywhere.
var migrations = []string{schemaV1, schemaV2, schemaV3, schemaV4, schemaV5, schemaV6, schemaV7, schemaV8, schemaV9, schemaV10}

// afterMigration[v] is Go run in the transaction right after the migration
// to version v: what SQL cannot do (fold text as Go does).
var afterMigration = map[int]func(ctx context.Context, tx pgx.Tx) error{
	6: func(ctx context.Context, tx pgx.Tx) error { return storesql.FoldCustomers(ctx, shared{tx}) },
}

// schemaV1 is the first schema: the SQLite store's, in PostgreSQL's types.
// The constraints repeat what the Go code already ensures, as a second line
// of defence: a bug or a hand-typed UPDATE that would break the invariant
// is refused by PostgreSQL itself.
//
// Every time is a pair: a timestamptz truncated to the microsecond and a
// smallint with the nanoseconds below it (see the package comment).
const schemaV1 = `
CREATE TABLE entitlements (
	id            bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer      text     NOT NULL CHECK (customer <> ''),
	series        text     NOT NULL CHECK (series IN ('pro', 'classic')),
	kind          text     NOT NULL CHECK (kind IN ('code', 'hwkey')),
	code_hash     bytea    UNIQUE,
	code_hint     text     NOT NULL DEFAULT '',
	hwkey_serial  text     UNIQUE,
	active        boolean  NOT NULL DEFAULT true,
	purchased     bigint   NOT NULL DEFAULT 0 CHECK (purchased >= 0),
	remaining     bigint   NOT NULL DEFAULT 0 CHECK (remaining >= 0),
	held          bigint   NOT NULL DEFAULT 0 CHECK (held >= 0),
	consumed      bigint   NOT NULL DEFAULT 0 CHECK (consumed >= 0),
	overdraft     bigint   NOT NULL DEFAULT 0 CHECK (overdraft >= 0),
	created_at    timestamptz NOT NULL,
	created_at_ns smallint NOT NULL CHECK (created_at_ns BETWEEN 0 AND 999),
	updated_at    timestamptz NOT NULL,
	updated_at_ns smallint NOT NULL CHECK (updated_at_ns BETWEEN 0 AND 999),
	CHECK (purchased = remaining + held + consumed),
	CHECK ((series = 'pro') = (kind = 'code')),
	CHECK ((kind = 'code' AND code_hash IS NOT NULL AND hwkey_serial IS NULL)
	    OR (kind = 'hwkey' AND hwkey_serial IS NOT NULL AND code_hash IS NULL))
);

-- One Pro code per customer covers the whole series.
CREATE UNIQUE INDEX entitlements_one_pro_per_customer ON entitlements (customer) WHERE series = 'pro';

-- A product belongs to one series; releases refer to it, so a product
-- cannot be published under two series.
CREATE TABLE products (
	name   text PRIMARY KEY CHECK (name <> ''),
	series text NOT NULL CHECK (series IN ('pro', 'classic'))
);

-- seq orders releases by publication, as SQLite's rowid does: the first
-- publication of an artifact is the one ReleaseBySHA256 and ArtifactURL
-- answer with.
CREATE TABLE releases (
	product         text   NOT NULL REFERENCES products (name),
	version         text   NOT NULL CHECK (version <> ''),
	os              text   NOT NULL CHECK (os <> ''),
	arch            text   NOT NULL CHECK (arch <> ''),
	sha256          text   NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	size            bigint NOT NULL CHECK (size >= 0),
	envelope        bytea  NOT NULL,
	published_at    timestamptz NOT NULL,
	published_at_ns smallint NOT NULL CHECK (published_at_ns BETWEEN 0 AND 999),
	seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	PRIMARY KEY (product, version, os, arch)
);

CREATE INDEX releases_by_platform ON releases (product, os, arch);
CREATE INDEX releases_by_sha256 ON releases (sha256, seq);

CREATE TABLE reservations (
	id              text   PRIMARY KEY,
	idempotency_key text   NOT NULL UNIQUE CHECK (idempotency_key <> ''),
	entitlement_id  bigint NOT NULL REFERENCES entitlements (id),
	product         text   NOT NULL,
	from_version    text   NOT NULL,
	to_version      text   NOT NULL,
	machine_id      text   NOT NULL,
	state           text   NOT NULL CHECK (state IN ('held', 'consumed', 'released', 'expired')),
	created_at      timestamptz NOT NULL,
	created_at_ns   smallint NOT NULL CHECK (created_at_ns BETWEEN 0 AND 999),
	updated_at      timestamptz NOT NULL,
	updated_at_ns   smallint NOT NULL CHECK (updated_at_ns BETWEEN 0 AND 999),
	expires_at      timestamptz NOT NULL,
	expires_at_ns   smallint NOT NULL CHECK (expires_at_ns BETWEEN 0 AND 999)
);

CREATE INDEX reservations_held_by_expiry ON reservations (expires_at, expires_at_ns) WHERE state = 'held';
CREATE INDEX reservations_by_entitlement ON reservations (entitlement_id, state);

-- An identity is never reused, and every move locks its entitlement row,
-- so an entitlement's ledger in id order is the order of its changes.
CREATE TABLE ledger (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entitlement_id  bigint NOT NULL REFERENCES entitlements (id),
	reservation_id  text   REFERENCES reservations (id),
	kind            text   NOT NULL CHECK (kind IN ('purchase', 'reserve', 'complete', 'release', 'expire', 'retake', 'overdraft')),
	d_purchased     bigint NOT NULL,
	d_remaining     bigint NOT NULL,
	d_held          bigint NOT NULL,
	d_consumed      bigint NOT NULL,
	d_overdraft     bigint NOT NULL,
	at              timestamptz NOT NULL,
	at_ns           smallint NOT NULL CHECK (at_ns BETWEEN 0 AND 999),
	-- Each row keeps the invariant on its own, so their sum does too.
	CHECK (d_purchased = d_remaining + d_held + d_consumed)
);

CREATE INDEX ledger_by_entitlement ON ledger (entitlement_id, id);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the ledger is append-only';
END
$$;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
	FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
-- TRUNCATE fires no row triggers: it needs its own.
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
`

// schemaV2 adds classic-series sessions. A session yields at most one
// reservation; a signed challenge opens at most one session.
const schemaV2 = `
CREATE TABLE classic_sessions (
	id             text     PRIMARY KEY,
	serial         text     NOT NULL CHECK (serial <> ''),
	product        text     NOT NULL,
	from_version   text     NOT NULL,
	to_version     text     NOT NULL,
	machine_id     text     NOT NULL,
	challenge_hash bytea    NOT NULL UNIQUE,
	state          text     NOT NULL CHECK (state IN ('open', 'confirmed', 'used', 'locked')),
	attempts       integer  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	reservation_id text     REFERENCES reservations (id),
	created_at     timestamptz NOT NULL,
	created_at_ns  smallint NOT NULL CHECK (created_at_ns BETWEEN 0 AND 999),
	expires_at     timestamptz NOT NULL,
	expires_at_ns  smallint NOT NULL CHECK (expires_at_ns BETWEEN 0 AND 999),
	CHECK ((state = 'used') = (reservation_id IS NOT NULL))
);
`

// schemaV3 lets a release's bytes live at an external origin or CDN: url
// is where they are, empty for the local blob store.
const schemaV3 = `
ALTER TABLE releases ADD COLUMN url text NOT NULL DEFAULT '';
`

// schemaV4 adds delta patches: a bsdiff patch from one release's artifact
// to another's, of one product and platform, stored as a blob under its
// own sha256 (patch_sha256), which is then served like an artifact.
const schemaV4 = `
CREATE TABLE patches (
	product      text   NOT NULL REFERENCES products (name),
	os           text   NOT NULL CHECK (os <> ''),
	arch         text   NOT NULL CHECK (arch <> ''),
	from_sha256  text   NOT NULL CHECK (from_sha256 ~ '^[0-9a-f]{64}$'),
	to_sha256    text   NOT NULL CHECK (to_sha256 ~ '^[0-9a-f]{64}$'),
	patch_sha256 text   NOT NULL CHECK (patch_sha256 ~ '^[0-9a-f]{64}$'),
	patch_size   bigint NOT NULL CHECK (patch_size > 0),
	PRIMARY KEY (product, os, arch, from_sha256, to_sha256),
	CHECK (from_sha256 <> to_sha256)
);

CREATE INDEX patches_by_sha256 ON patches (patch_sha256);
`

// schemaV5 adds the files of folder releases (issue 17): each file a
// folder's manifest names is stored in the blob store under its sha256 and
// served as an artifact, so the server must know it is published. A file
// unchanged between versions is one blob named by both releases.
const schemaV5 = `
CREATE TABLE release_files (
	product text NOT NULL,
	version text NOT NULL,
	os      text NOT NULL,
	arch    text NOT NULL,
	sha256  text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	PRIMARY KEY (product, version, os, arch, sha256),
	FOREIGN KEY (product, version, os, arch) REFERENCES releases (product, version, os, arch)
);

CREATE INDEX release_files_by_sha256 ON release_files (sha256);
`

// migrationLock is the pg_advisory_xact_lock key under which migrations
// run ("aktual" in ASCII): replicas starting at once take turns, and the
// second finds the schema done. Advisory locks are per database.
const migrationLock int64 = 0x616b7475616c

// migrate brings the schema to the newest version in one transaction under
// the advisory lock; PostgreSQL's DDL is transactional, so a failed
// migration leaves the schema as it was.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("waiting for the schema lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			CREATE TABLE IF NOT EXISTS schema_migrations (
				version    integer PRIMARY KEY CHECK (version > 0),
				applied_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
			return fmt.Errorf("creating the schema_migrations table: %w", err)
		}
		var v int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("the database has schema version %d, newer than this program knows (%d); use a newer aktuald", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrating schema to version %d: %w", i+1, err)
			}
			if after := afterMigration[i+1]; after != nil {
				if err := after(ctx, tx); err != nil {
					return fmt.Errorf("migrating schema to version %d: %w", i+1, err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
				return fmt.Errorf("recording schema version %d: %w", i+1, err)
			}
		}
		return nil
	})
}
