package sqlite

// schemaV9 stands in for the schema version 9 another branch adds (the
// reserve and complete hot path): migrations are numbered without gaps,
// and schema version 10 (the search indexes of issue 21) comes after it.
// When the two branches meet, this file goes and the real schemaV9 takes
// its place; a database migrated by this branch alone is a development
// database, never shipped.
const schemaV9 = `SELECT 1`
