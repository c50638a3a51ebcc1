package postgres

import (
	"context"
	"fmt"

	"github.com/aktual/aktual/server/store/storesql"
)

// schemaV10 makes the staff search and the customer page fast with a
// million customers (issue 21). The last group of a code (code_hint) is
// matched whole: a btree index. A fragment of a name, VAT number or
// hardware-key serial is found through trigram indexes (searchIndexes).
var schemaV10 = `
CREATE INDEX entitlements_by_code_hint ON entitlements (code_hint);
` + searchIndexes

// searchIndexes makes the trigram indexes (pg_trgm's GIN operator class
// serves LIKE '%…%') on storesql.TrigramKey of the folded name, the folded
// VAT number and the lower-case serial. The extension is trusted, so a
// database's owner may create it; where even that is refused (or the
// contrib package is not installed), the schema goes on without those
// indexes: the search still answers, by scanning, PostgreSQL's log carries
// the warning below, and Store.Notices says so. Each start runs it again
// while the indexes are missing, so they appear once a superuser has
// created the extension.
var searchIndexes = `
DO $$
BEGIN
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm;
	EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
		RAISE WARNING 'aktual: the pg_trgm extension could not be created (%): ` + trigramMissing + `', SQLERRM;
	END;
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
		EXECUTE $i$CREATE INDEX IF NOT EXISTS customers_name_trgm ON customers USING gin ((` + storesql.TrigramKey("name_fold") + `) gin_trgm_ops)$i$;
		EXECUTE $i$CREATE INDEX IF NOT EXISTS customers_vat_trgm ON customers USING gin ((` + storesql.TrigramKey("vat_fold") + `) gin_trgm_ops)$i$;
		EXECUTE $i$CREATE INDEX IF NOT EXISTS entitlements_serial_trgm ON entitlements USING gin ((` + storesql.TrigramKey("lower(hwkey_serial)") + `) gin_trgm_ops)$i$;
	END IF;
END
$$;
`

// trigramMissing is what an operator reads when the trigram indexes are
// missing (no quotes: it is spliced into SQL text).
const trigramMissing = `staff search by a fragment of a name, VAT number or serial scans the whole customers table; have a superuser run CREATE EXTENSION pg_trgm in this database and restart aktuald, which then builds the search indexes`

// ensureSearchIndexes builds the trigram indexes when an earlier start
// could not, and records a notice when they are still missing.
func (s *Store) ensureSearchIndexes(ctx context.Context) error {
	var have bool
	const q = `SELECT count(*) = 3 FROM pg_indexes WHERE schemaname = current_schema()
		AND indexname IN ('customers_name_trgm', 'customers_vat_trgm', 'entitlements_serial_trgm')`
	if err := s.pool.QueryRow(ctx, q).Scan(&have); err != nil {
		return fmt.Errorf("looking for the search indexes: %w", err)
	}
	if have {
		return nil
	}
	if _, err := s.pool.Exec(ctx, searchIndexes); err != nil {
		return fmt.Errorf("making the search indexes: %w", err)
	}
	if err := s.pool.QueryRow(ctx, q).Scan(&have); err != nil {
		return fmt.Errorf("looking for the search indexes: %w", err)
	}
	if !have {
		s.notices = append(s.notices, "PostgreSQL: the pg_trgm extension is not available: "+trigramMissing)
	}
	return nil
}

// Notices are what an operator should know about this database that is
// not an error: a missing extension that makes the search slow.
func (s *Store) Notices() []string { return s.notices }
