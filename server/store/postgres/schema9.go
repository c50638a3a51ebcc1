package postgres

// schemaV9 makes the ledger's append cheaper on the hot path (issue 21):
// its foreign keys go. Each ledger row costs PostgreSQL one check per
// foreign key (a query and a row lock on the referenced table, queued as
// a trigger to the statement's end), and a reserve+complete appends two
// rows: four checks. They checked what the only SQL that appends a row
// already ensures by how it is written: moveCTE takes the row's
// entitlement_id from the entitlement the same statement has just updated
// (RETURNING), and its reservation_id is NULL or the reservation the same
// statement has just inserted or updated, all in one transaction; and
// neither entitlements nor reservations are ever deleted. The reservations'
// own reference to their entitlement stays, as do the ledger's CHECK
// constraints, its append-only triggers and its indexes; the audit (Audit)
// still replays every entitlement's ledger against its counts.
//
// The SQLite store's schemaV9 changes nothing: its foreign keys cost no
// query each, and the versions mean one schema in both stores.
const schemaV9 = `
ALTER TABLE ledger DROP CONSTRAINT ledger_entitlement_id_fkey;
ALTER TABLE ledger DROP CONSTRAINT ledger_reservation_id_fkey;
`
