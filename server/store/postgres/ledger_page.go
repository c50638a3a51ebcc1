package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/aktual/aktual/server/store"
)

// LedgerPage lists a page of an entitlement's ledger, newest first (see
// store.Store).
func (s *Store) LedgerPage(ctx context.Context, entitlementID, before int64, limit int) ([]store.LedgerEntry, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.pool.Query(ctx, LedgerPageSQL, entitlementID, before, limit)
	if err != nil {
		return nil, scrub(fmt.Errorf("listing ledger of entitlement %d: %w", entitlementID, err), s.secret)
	}
	defer rows.Close()
	var out []store.LedgerEntry
	for rows.Next() {
		var (
			l  store.LedgerEntry
			at time.Time
			ns int16
		)
		if err := rows.Scan(&l.ID, &l.EntitlementID, &l.ReservationID, &l.Kind,
			&l.DeltaPurchased, &l.DeltaRemaining, &l.DeltaHeld, &l.DeltaConsumed, &l.DeltaOverdraft, &at, &ns, &l.Actor, &l.Reason); err != nil {
			return nil, fmt.Errorf("reading ledger of entitlement %d: %w", entitlementID, err)
		}
		l.At = loadedTime(at, ns)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, scrub(fmt.Errorf("listing ledger of entitlement %d: %w", entitlementID, err), s.secret)
	}
	return out, nil
}

// LedgerPageSQL is LedgerPage's query (the plan tests EXPLAIN it): a
// backward walk of ledger_by_entitlement.
const LedgerPageSQL = `
	SELECT id, entitlement_id, coalesce(reservation_id, ''), kind,
	       d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns, actor, reason
	FROM ledger WHERE entitlement_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`
