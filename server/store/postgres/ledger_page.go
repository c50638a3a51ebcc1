package postgres

import (
	"context"
	"math"

	"github.com/aktual/aktual/server/store"
)

// LedgerPage lists a page of an entitlement's ledger, newest first (see
// store.Store).
func (s *Store) LedgerPage(ctx context.Context, entitlementID, before int64, limit int) ([]store.LedgerEntry, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.pool.Query(ctx, LedgerPageSQL, entitlementID, before, limit)
	out, err := ledgerRows(rows, err, entitlementID)
	return out, scrub(err, s.secret)
}

// LedgerPageSQL is LedgerPage's query (the plan tests EXPLAIN it): a
// backward walk of ledger_by_entitlement.
const LedgerPageSQL = `
	SELECT id, entitlement_id, coalesce(reservation_id, ''), kind,
	       d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns, actor, reason
	FROM ledger WHERE entitlement_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`
