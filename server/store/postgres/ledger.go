package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store"
)

// counts is a change of an entitlement's counts (or, summed, its totals).
type counts = store.Counts

// move changes an entitlement's counts by d and appends the ledger row that
// says so, in tx. It is the only code that changes counts, so no change can
// go unrecorded. The WHERE clause refuses a move that would take any count
// below zero (store.ErrWouldGoNegative); for a reserve it is the decrement
// "remaining = remaining - 1 WHERE remaining > 0" that decides, not an
// earlier read. The UPDATE locks the row (if the caller has not already)
// until the transaction ends; under READ COMMITTED a concurrent move's
// committed change is re-read before the WHERE clause is judged.
func move(ctx context.Context, tx pgx.Tx, entitlementID int64, reservationID, kind string, d counts, at time.Time) error {
	ts, ns := storedTime(at)
	tag, err := tx.Exec(ctx, `
		UPDATE entitlements
		SET purchased = purchased + $1, remaining = remaining + $2, held = held + $3,
		    consumed = consumed + $4, overdraft = overdraft + $5, updated_at = $6, updated_at_ns = $7
		WHERE id = $8 AND remaining + $2 >= 0 AND held + $3 >= 0
		  AND consumed + $4 >= 0 AND overdraft + $5 >= 0`,
		d.Purchased, d.Remaining, d.Held, d.Consumed, d.Overdraft, ts, ns, entitlementID)
	if err != nil {
		return fmt.Errorf("%s on entitlement %d: %w", kind, entitlementID, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("%s on entitlement %d: %w", kind, entitlementID, store.ErrWouldGoNegative)
	}
	var resID *string // NULL for purchases
	if reservationID != "" {
		resID = &reservationID
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO ledger (entitlement_id, reservation_id, kind,
		    d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		entitlementID, resID, kind, d.Purchased, d.Remaining, d.Held, d.Consumed, d.Overdraft, ts, ns)
	if err != nil {
		return fmt.Errorf("recording %s in the ledger: %w", kind, err)
	}
	return nil
}

// Ledger lists an entitlement's ledger, oldest first (empty for an unknown
// entitlement).
func (s *Store) Ledger(ctx context.Context, entitlementID int64) ([]store.LedgerEntry, error) {
	l, err := ledger(ctx, s.pool, entitlementID)
	return l, scrub(err, s.secret)
}

func ledger(ctx context.Context, q querier, entitlementID int64) ([]store.LedgerEntry, error) {
	rows, err := q.Query(ctx, `
		SELECT id, entitlement_id, coalesce(reservation_id, ''), kind,
		       d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns
		FROM ledger WHERE entitlement_id = $1 ORDER BY id`, entitlementID)
	if err != nil {
		return nil, fmt.Errorf("listing ledger of entitlement %d: %w", entitlementID, err)
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
			&l.DeltaPurchased, &l.DeltaRemaining, &l.DeltaHeld, &l.DeltaConsumed, &l.DeltaOverdraft, &at, &ns); err != nil {
			return nil, fmt.Errorf("reading ledger of entitlement %d: %w", entitlementID, err)
		}
		l.At = loadedTime(at, ns)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing ledger of entitlement %d: %w", entitlementID, err)
	}
	return out, nil
}
