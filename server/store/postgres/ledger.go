package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aktual/aktual/server/store"
)

// counts is a change of an entitlement's counts (or, summed, its totals).
type counts = store.Counts

// moveCTE is the part of a statement that changes an entitlement's counts
// and appends the ledger row that says so, as the CTEs "moved" (the
// entitlement as it ends, in entitlementColumns) and "recorded". It is the
// only SQL that changes counts, so no change can go unrecorded. target
// picks the row: "id = $10", or a condition on an earlier part of the
// statement whose write the move goes with, so that the move happens when
// that write did and not otherwise. Its parameters $1…$9 are moveArgs;
// actor and reason, the ledger row's, are each a parameter ("$11") or a
// literal of this package ('installer').
//
// A move that would take a count below zero breaks the schema's CHECK
// (remaining >= 0 and the like) and fails the whole statement
// (wouldGoNegative): for a reserve it is the decrement that decides, not an
// earlier read. The UPDATE locks the row (if the caller has not already)
// until the transaction ends; under READ COMMITTED a concurrent move's
// committed change is re-read before the row is changed.
func moveCTE(target, actor, reason string) string {
	return `moved AS (
		UPDATE entitlements
		SET purchased = purchased + $3, remaining = remaining + $4, held = held + $5,
		    consumed = consumed + $6, overdraft = overdraft + $7, updated_at = $8, updated_at_ns = $9
		WHERE ` + target + `
		RETURNING ` + entitlementColumns + `
	), recorded AS (
		INSERT INTO ledger (entitlement_id, reservation_id, kind,
		    d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns, actor, reason)
		SELECT id, $1::text, $2::text, $3, $4, $5, $6, $7, $8, $9, ` + actor + `, ` + reason + ` FROM moved
	)`
}

// installerActor is the update flow's moves' actor, as a literal for
// moveCTE.
const installerActor = `'` + store.ActorInstaller + `'`

// moveArgs are moveCTE's parameters: the move d of ledger kind at time at,
// for reservation reservationID ("" for a purchase).
func moveArgs(reservationID, kind string, d counts, at time.Time) []any {
	var resID *string // NULL for purchases
	if reservationID != "" {
		resID = &reservationID
	}
	ts, ns := storedTime(at)
	return []any{resID, kind, d.Purchased, d.Remaining, d.Held, d.Consumed, d.Overdraft, ts, ns}
}

// moveSQL moves the counts of entitlement $10 for actor $11 with reason
// $12, and returns it as it ends.
var moveSQL = `WITH ` + moveCTE(`id = $10`, `$11::text`, `$12::text`) + ` SELECT * FROM moved`

// move changes an entitlement's counts by d and appends the ledger row that
// says so, made by by.Name for by.Reason, in tx, and returns the
// entitlement as it ends: see moveCTE.
func move(ctx context.Context, tx pgx.Tx, entitlementID int64, reservationID, kind string, d counts, at time.Time, by store.Actor) (store.Entitlement, error) {
	args := append(moveArgs(reservationID, kind, d, at), entitlementID, by.Name, by.Reason)
	e, err := scanEntitlement(tx.QueryRow(ctx, moveSQL, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	return e, moveError(err, kind, entitlementID)
}

// moveError says what went wrong in a move of kind on an entitlement:
// store.ErrWouldGoNegative when it needed a unit there was not.
func moveError(err error, kind string, entitlementID int64) error {
	switch {
	case err == nil:
		return nil
	case wouldGoNegative(err):
		err = store.ErrWouldGoNegative
	}
	return fmt.Errorf("%s on entitlement %d: %w", kind, entitlementID, err)
}

// countChecks are the CHECK constraints by which the schema refuses a
// negative count (PostgreSQL names a column's CHECK table_column_check).
var countChecks = map[string]bool{
	"entitlements_purchased_check": true,
	"entitlements_remaining_check": true,
	"entitlements_held_check":      true,
	"entitlements_consumed_check":  true,
	"entitlements_overdraft_check": true,
}

// wouldGoNegative reports whether err is a move refused because it would
// take a count below zero (see moveCTE).
func wouldGoNegative(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeCheckViolation && countChecks[pe.ConstraintName]
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
		       d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns, actor, reason
		FROM ledger WHERE entitlement_id = $1 ORDER BY id`, entitlementID)
	return ledgerRows(rows, err, entitlementID)
}

// ledgerRows reads the ledger rows of a query of ledger's columns.
func ledgerRows(rows pgx.Rows, err error, entitlementID int64) ([]store.LedgerEntry, error) {
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
			&l.DeltaPurchased, &l.DeltaRemaining, &l.DeltaHeld, &l.DeltaConsumed, &l.DeltaOverdraft, &at, &ns, &l.Actor, &l.Reason); err != nil {
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
