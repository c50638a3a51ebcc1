package sqlite

// schemaV10 makes the staff search find a code by its last group through
// an index (issue 21). A fragment of a name, VAT number or serial is found
// by walking the customers in name order (their sort key's index) until a
// page is full: SQLite's LIKE '%…%' uses no index, and the SQLite store is
// for the smaller installations (docs/benchmarks.md, issue 21, has the
// figures at 100,000 customers).
const schemaV10 = `
CREATE INDEX entitlements_by_code_hint ON entitlements (code_hint);
`
