package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/aktual/aktual/server/store"
)

// counts is a change of an entitlement's counts (or, summed, its totals).
type counts = store.Counts

// The actors of the update flow's moves, which the store sets itself.
var (
	installer = store.Actor{Name: store.ActorInstaller}
	expiry    = store.Actor{Name: store.ActorExpiry}
)

// move changes an entitlement's counts by d and appends the ledger row that
// says so, in q's transaction, and returns the entitlement as the move left
// it, so that the caller need not read it again. It is the only code that
// changes counts, so no change can go unrecorded. The WHERE clause refuses
// a move that would take any count below zero (store.ErrWouldGoNegative);
// for a reserve it is the decrement "remaining = remaining - 1 WHERE
// remaining > 0" that decides, not the earlier read. The ledger row names
// who made the change and why (by.Name, by.Reason).
func move(ctx context.Context, q querier, entitlementID int64, reservationID, kind string, d counts, at time.Time, by store.Actor) (store.Entitlement, error) {
	rows, err := q.QueryContext(ctx, `
		UPDATE entitlements
		SET purchased = purchased + ?1, remaining = remaining + ?2, held = held + ?3,
		    consumed = consumed + ?4, overdraft = overdraft + ?5, updated_at = ?6
		WHERE id = ?7 AND remaining + ?2 >= 0 AND held + ?3 >= 0
		  AND consumed + ?4 >= 0 AND overdraft + ?5 >= 0
		RETURNING `+entitlementColumns,
		d.Purchased, d.Remaining, d.Held, d.Consumed, d.Overdraft, formatTime(at), entitlementID)
	if err != nil {
		return store.Entitlement{}, fmt.Errorf("%s on entitlement %d: %w", kind, entitlementID, err)
	}
	if !rows.Next() { // no row changed; Next has closed rows
		err := rows.Err()
		if err == nil {
			err = store.ErrWouldGoNegative
		}
		return store.Entitlement{}, fmt.Errorf("%s on entitlement %d: %w", kind, entitlementID, err)
	}
	e, err := scanEntitlement(rows)
	// Closed before the ledger insert; SQLite made the change at the first step.
	if cerr := rows.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s on entitlement %d: %w", kind, entitlementID, cerr)
	}
	if err != nil {
		return store.Entitlement{}, err
	}
	var resID any // NULL for purchases
	if reservationID != "" {
		resID = reservationID
	}
	_, err = q.ExecContext(ctx, `
		INSERT INTO ledger (entitlement_id, reservation_id, kind,
		    d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, actor, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		entitlementID, resID, kind, d.Purchased, d.Remaining, d.Held, d.Consumed, d.Overdraft, formatTime(at), by.Name, by.Reason)
	if err != nil {
		return store.Entitlement{}, fmt.Errorf("recording %s in the ledger: %w", kind, err)
	}
	return e, nil
}

// Ledger lists an entitlement's ledger, oldest first (empty for an unknown
// entitlement).
func (s *Store) Ledger(ctx context.Context, entitlementID int64) ([]store.LedgerEntry, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, entitlement_id, coalesce(reservation_id, ''), kind,
		       d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, actor, reason
		FROM ledger WHERE entitlement_id = ? ORDER BY id`, entitlementID)
	return ledgerRows(rows, err, entitlementID)
}

// ledgerRows reads the ledger rows of a query of Ledger's columns.
func ledgerRows(rows *sql.Rows, err error, entitlementID int64) ([]store.LedgerEntry, error) {
	if err != nil {
		return nil, fmt.Errorf("listing ledger of entitlement %d: %w", entitlementID, err)
	}
	defer rows.Close()
	var out []store.LedgerEntry
	for rows.Next() {
		var l store.LedgerEntry
		var at string
		if err := rows.Scan(&l.ID, &l.EntitlementID, &l.ReservationID, &l.Kind,
			&l.DeltaPurchased, &l.DeltaRemaining, &l.DeltaHeld, &l.DeltaConsumed, &l.DeltaOverdraft, &at, &l.Actor, &l.Reason); err != nil {
			return nil, fmt.Errorf("reading ledger of entitlement %d: %w", entitlementID, err)
		}
		if l.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("reading ledger row %d: %w", l.ID, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing ledger of entitlement %d: %w", entitlementID, err)
	}
	return out, nil
}
