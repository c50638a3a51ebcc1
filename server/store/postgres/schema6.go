package postgres

// schemaV6 adds what staff do and who they are (issue 19), as the SQLite
// store's schemaV6 does: distributors and customers, staff accounts, their
// console sessions and API tokens, the throttle, the audit log and the
// idempotency keys of staff activations. Their times are Unix nanoseconds
// (bigint), not the timestamptz pairs of the older tables, so that both
// stores run the same SQL (package storesql).
//
// The ledger gains who made each change (actor) and why (reason), and a
// kind, correction. Rows made before have no actor recorded: a purchase
// was made on the server's shell (local:), an expiry by the sweep
// (expiry), every other row by the update flow (installer); the
// append-only trigger is disabled while they are filled in, in this
// transaction only.
//
// Customers are made from the names the entitlements carry. Their folded
// names and sort keys are provisional here (lower() follows the database's
// locale): storesql.FoldCustomers sets them in the same transaction.
const schemaV6 = `
CREATE TABLE distributors (
	name       text   PRIMARY KEY CHECK (name <> ''),
	created_at bigint NOT NULL
);

CREATE TABLE customers (
	name        text   PRIMARY KEY CHECK (name <> ''),
	name_fold   text   NOT NULL,
	vat         text   NOT NULL DEFAULT '',
	vat_fold    text   NOT NULL DEFAULT '',
	distributor text   REFERENCES distributors (name),
	sort_key    bytea  NOT NULL UNIQUE,
	created_at  bigint NOT NULL
);

CREATE INDEX customers_by_distributor ON customers (distributor, sort_key);

INSERT INTO customers (name, name_fold, sort_key, created_at)
SELECT customer, lower(customer), convert_to(customer, 'UTF8'), min(at)
FROM (SELECT customer, (extract(epoch FROM created_at) * 1000000)::bigint * 1000 + created_at_ns AS at
      FROM entitlements) e
GROUP BY customer;

CREATE INDEX entitlements_by_customer ON entitlements (customer, id);

CREATE TABLE staff (
	login         text    PRIMARY KEY CHECK (login <> ''),
	role          text    NOT NULL CHECK (role IN ('admin', 'office', 'distributor', 'support')),
	distributor   text    REFERENCES distributors (name),
	password_hash text    NOT NULL,
	totp_secret   text    NOT NULL DEFAULT '',
	-- The last TOTP time step a sign-in used: a code is good once.
	totp_step     bigint  NOT NULL DEFAULT 0,
	disabled      boolean NOT NULL DEFAULT false,
	created_at    bigint  NOT NULL,
	updated_at    bigint  NOT NULL,
	CHECK ((role = 'distributor') = (distributor IS NOT NULL))
);

-- Only the hash of a session's cookie value is kept.
CREATE TABLE staff_sessions (
	id_hash    bytea   PRIMARY KEY,
	login      text    NOT NULL REFERENCES staff (login),
	csrf       text    NOT NULL,
	address    text    NOT NULL DEFAULT '',
	pending    boolean NOT NULL,
	created_at bigint  NOT NULL,
	seen_at    bigint  NOT NULL,
	expires_at bigint  NOT NULL
);

CREATE INDEX staff_sessions_by_login ON staff_sessions (login);
CREATE INDEX staff_sessions_by_expiry ON staff_sessions (expires_at);

-- A token's name is unique among its login's tokens in force.
CREATE TABLE api_tokens (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	login        text   NOT NULL REFERENCES staff (login),
	name         text   NOT NULL CHECK (name <> ''),
	role         text   NOT NULL CHECK (role IN ('admin', 'office', 'distributor', 'support')),
	hash         bytea  NOT NULL UNIQUE,
	created_at   bigint NOT NULL,
	last_used_at bigint,
	revoked_at   bigint
);

CREATE UNIQUE INDEX api_tokens_name_in_force ON api_tokens (login, name) WHERE revoked_at IS NULL;

CREATE TABLE throttle (
	key        text    PRIMARY KEY CHECK (key <> ''),
	count      integer NOT NULL CHECK (count > 0),
	window_end bigint  NOT NULL
);

CREATE INDEX throttle_by_window_end ON throttle (window_end);

-- Append-only, like the ledger.
CREATE TABLE audit_events (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at             bigint NOT NULL,
	actor          text   NOT NULL CHECK (actor <> ''),
	address        text   NOT NULL DEFAULT '',
	action         text   NOT NULL CHECK (action <> ''),
	customer       text   NOT NULL DEFAULT '',
	entitlement_id bigint REFERENCES entitlements (id),
	detail         text   NOT NULL DEFAULT '',
	reason         text   NOT NULL DEFAULT '',
	-- The customer's distributor when the event was written: a
	-- distributor reads what happened while the customer was its own.
	distributor    text   NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_by_customer ON audit_events (customer, id);
CREATE INDEX audit_events_by_distributor ON audit_events (distributor, id);
CREATE INDEX audit_events_by_actor ON audit_events (actor, id);
CREATE INDEX audit_events_by_at ON audit_events (at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The idempotency keys of staff activations (an invoice number): claimed
-- and given their outcome in the activation's transaction.
CREATE TABLE activation_keys (
	key            text    PRIMARY KEY CHECK (key <> ''),
	request_hash   text    NOT NULL CHECK (request_hash <> ''),
	entitlement_id bigint  REFERENCES entitlements (id),
	added          bigint  NOT NULL DEFAULT 0,
	created        boolean NOT NULL DEFAULT false,
	sealed         bytea,
	at             bigint  NOT NULL
);

ALTER TABLE ledger ADD COLUMN actor text NOT NULL DEFAULT 'installer' CHECK (actor <> '');
ALTER TABLE ledger ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE ledger DISABLE TRIGGER ledger_no_update;
UPDATE ledger SET actor = CASE kind WHEN 'purchase' THEN 'local:' ELSE 'expiry' END
WHERE kind IN ('purchase', 'expire');
ALTER TABLE ledger ENABLE TRIGGER ledger_no_update;
ALTER TABLE ledger ALTER COLUMN actor DROP DEFAULT;

ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check
	CHECK (kind IN ('purchase', 'reserve', 'complete', 'release', 'expire', 'retake', 'overdraft', 'correction'));
-- A correction moves purchased and remaining together, for a reason.
ALTER TABLE ledger ADD CONSTRAINT ledger_correction_check
	CHECK (kind <> 'correction' OR (d_held = 0 AND d_consumed = 0 AND d_overdraft = 0
	       AND d_remaining <> 0 AND reservation_id IS NULL AND reason <> ''));
`
