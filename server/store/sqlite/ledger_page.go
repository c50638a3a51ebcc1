package sqlite

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
	rows, err := s.db.QueryContext(ctx, LedgerPageSQL, entitlementID, before, limit)
	return ledgerRows(rows, err, entitlementID)
}

// LedgerPageSQL is LedgerPage's query (the plan tests EXPLAIN it): a
// backward walk of ledger_by_entitlement.
const LedgerPageSQL = `
	SELECT id, entitlement_id, coalesce(reservation_id, ''), kind,
	       d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, actor, reason
	FROM ledger WHERE entitlement_id = ? AND id < ? ORDER BY id DESC LIMIT ?`
