package sqlite

// schemaV6 adds what staff do and who they are (issue 19): distributors
// and customers, staff accounts, their console sessions and API tokens,
// the throttle, the audit log and the idempotency keys of staff
// activations. Their times are Unix nanoseconds (INTEGER), as in the
// PostgreSQL store, so that both run the same SQL (package storesql).
//
// The ledger gains who made each change (actor) and why (reason), and a
// kind, correction. SQLite cannot change a CHECK, so the ledger is copied
// into a new table with the new columns and CHECKs, keeping its ids and
// its AUTOINCREMENT sequence, and takes the old one's name, index and
// append-only triggers. Rows made before have no actor recorded: a
// purchase was made on the server's shell (local:), an expiry by the sweep
// (expiry), every other row by the update flow (installer).
//
// Customers are made from the names the entitlements carry. Their folded
// names and sort keys are provisional here (SQLite's lower() folds ASCII
// only): storesql.FoldCustomers sets them in the same transaction.
const schemaV6 = `
CREATE TABLE distributors (
	name       TEXT    PRIMARY KEY CHECK (name <> ''),
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE customers (
	name        TEXT    PRIMARY KEY CHECK (name <> ''),
	name_fold   TEXT    NOT NULL,
	vat         TEXT    NOT NULL DEFAULT '',
	vat_fold    TEXT    NOT NULL DEFAULT '',
	distributor TEXT    REFERENCES distributors (name),
	sort_key    BLOB    NOT NULL UNIQUE,
	created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX customers_by_distributor ON customers (distributor, sort_key);

INSERT INTO customers (name, name_fold, sort_key, created_at)
SELECT customer, lower(customer), CAST(customer AS BLOB),
       CAST(strftime('%s', substr(min(created_at), 1, 19)) AS INTEGER) * 1000000000
           + CAST(substr(min(created_at), 21, 9) AS INTEGER)
FROM entitlements GROUP BY customer;

CREATE INDEX entitlements_by_customer ON entitlements (customer, id);

CREATE TABLE staff (
	login         TEXT    PRIMARY KEY CHECK (login <> ''),
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'office', 'distributor', 'support')),
	distributor   TEXT    REFERENCES distributors (name),
	password_hash TEXT    NOT NULL,
	totp_secret   TEXT    NOT NULL DEFAULT '',
	-- The last TOTP time step a sign-in used: a code is good once.
	totp_step     INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	CHECK ((role = 'distributor') = (distributor IS NOT NULL))
) STRICT;

-- Only the hash of a session's cookie value is kept.
CREATE TABLE staff_sessions (
	id_hash    BLOB    PRIMARY KEY,
	login      TEXT    NOT NULL REFERENCES staff (login),
	csrf       TEXT    NOT NULL,
	address    TEXT    NOT NULL DEFAULT '',
	pending    INTEGER NOT NULL CHECK (pending IN (0, 1)),
	created_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX staff_sessions_by_login ON staff_sessions (login);
CREATE INDEX staff_sessions_by_expiry ON staff_sessions (expires_at);

-- A token's name is unique among its login's tokens in force.
CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	login        TEXT    NOT NULL REFERENCES staff (login),
	name         TEXT    NOT NULL CHECK (name <> ''),
	role         TEXT    NOT NULL CHECK (role IN ('admin', 'office', 'distributor', 'support')),
	hash         BLOB    NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER
) STRICT;

CREATE UNIQUE INDEX api_tokens_name_in_force ON api_tokens (login, name) WHERE revoked_at IS NULL;

CREATE TABLE throttle (
	key        TEXT    PRIMARY KEY CHECK (key <> ''),
	count      INTEGER NOT NULL CHECK (count > 0),
	window_end INTEGER NOT NULL
) STRICT;

CREATE INDEX throttle_by_window_end ON throttle (window_end);

-- Append-only, like the ledger. AUTOINCREMENT: ids are never reused, so
-- the log's order is its id order.
CREATE TABLE audit_events (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	at             INTEGER NOT NULL,
	actor          TEXT    NOT NULL CHECK (actor <> ''),
	address        TEXT    NOT NULL DEFAULT '',
	action         TEXT    NOT NULL CHECK (action <> ''),
	customer       TEXT    NOT NULL DEFAULT '',
	entitlement_id INTEGER REFERENCES entitlements (id),
	detail         TEXT    NOT NULL DEFAULT '',
	reason         TEXT    NOT NULL DEFAULT '',
	-- The customer's distributor when the event was written: a
	-- distributor reads what happened while the customer was its own.
	distributor    TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_events_by_customer ON audit_events (customer, id);
CREATE INDEX audit_events_by_distributor ON audit_events (distributor, id);
CREATE INDEX audit_events_by_actor ON audit_events (actor, id);
CREATE INDEX audit_events_by_at ON audit_events (at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- The idempotency keys of staff activations (an invoice number): claimed
-- and given their outcome in the activation's transaction.
CREATE TABLE activation_keys (
	key            TEXT    PRIMARY KEY CHECK (key <> ''),
	request_hash   TEXT    NOT NULL CHECK (request_hash <> ''),
	entitlement_id INTEGER REFERENCES entitlements (id),
	added          INTEGER NOT NULL DEFAULT 0,
	created        INTEGER NOT NULL DEFAULT 0 CHECK (created IN (0, 1)),
	sealed         BLOB,
	at             INTEGER NOT NULL
) STRICT;

CREATE TABLE ledger_v6 (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	entitlement_id  INTEGER NOT NULL REFERENCES entitlements (id),
	reservation_id  TEXT    REFERENCES reservations (id),
	kind            TEXT    NOT NULL CHECK (kind IN ('purchase', 'reserve', 'complete', 'release', 'expire', 'retake', 'overdraft', 'correction')),
	d_purchased     INTEGER NOT NULL,
	d_remaining     INTEGER NOT NULL,
	d_held          INTEGER NOT NULL,
	d_consumed      INTEGER NOT NULL,
	d_overdraft     INTEGER NOT NULL,
	at              TEXT    NOT NULL,
	actor           TEXT    NOT NULL CHECK (actor <> ''),
	reason          TEXT    NOT NULL DEFAULT '',
	-- Each row keeps the invariant on its own, so their sum does too.
	CHECK (d_purchased = d_remaining + d_held + d_consumed),
	-- A correction moves purchased and remaining together, for a reason.
	CHECK (kind <> 'correction' OR (d_held = 0 AND d_consumed = 0 AND d_overdraft = 0
	       AND d_remaining <> 0 AND reservation_id IS NULL AND reason <> ''))
) STRICT;

INSERT INTO ledger_v6 (id, entitlement_id, reservation_id, kind,
    d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, actor)
SELECT id, entitlement_id, reservation_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at,
       CASE kind WHEN 'purchase' THEN 'local:' WHEN 'expire' THEN 'expiry' ELSE 'installer' END
FROM ledger ORDER BY id;

-- The sequence goes on from the old table's, not from its largest id.
DELETE FROM sqlite_sequence WHERE name = 'ledger_v6';
INSERT INTO sqlite_sequence (name, seq) SELECT 'ledger_v6', seq FROM sqlite_sequence WHERE name = 'ledger';

DROP TRIGGER ledger_no_update;
DROP TRIGGER ledger_no_delete;
DROP TABLE ledger;
ALTER TABLE ledger_v6 RENAME TO ledger;

CREATE INDEX ledger_by_entitlement ON ledger (entitlement_id, id);

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
`
