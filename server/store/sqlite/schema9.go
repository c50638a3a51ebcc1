package sqlite

// schemaV9 changes nothing here. In the PostgreSQL store, version 9 drops
// the ledger's foreign keys, each of which cost a query per appended row
// there (issue 21); SQLite checks a foreign key inside its own B-tree
// lookup, without a statement, so the ledger keeps them. The version is
// taken all the same so that a schema version names one schema in both
// stores.
const schemaV9 = `SELECT 1`
