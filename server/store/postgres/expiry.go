package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// ExpireReservations releases held reservations whose ExpiresAt <= now, in
// one transaction, and returns how many.
//
// It locks every due reservation first, in (expiry, id) order, then moves
// the entitlements in ascending id order: two sweeps on two replicas queue
// on the first reservation instead of crossing, and a completion that
// locked a reservation first is waited for and then seen (the reservation
// is no longer held and is left out).
func (s *Store) ExpireReservations(ctx context.Context, now time.Time) (int, error) {
	now = store.OrNow(now)
	var n int
	err := s.write(ctx, func(tx pgx.Tx) error {
		due, err := dueReservations(ctx, tx, now)
		if err != nil {
			return err
		}
		slices.SortStableFunc(due, func(a, b store.Reservation) int { return cmp.Compare(a.EntitlementID, b.EntitlementID) })
		for _, r := range due {
			_, _, err := scanFinished(tx.QueryRow(ctx, finishSQL, finishArgs(r.ID, api.StateHeld, api.StateExpired, store.LedgerExpire, now)...))
			if errors.Is(err, pgx.ErrNoRows) {
				return noLonger(r.ID, api.StateHeld, api.StateExpired)
			} else if err != nil {
				return moveError(err, store.LedgerExpire, r.EntitlementID)
			}
		}
		n = len(due)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expiring reservations: %w", err)
	}
	return n, nil
}

// dueReservations lists and locks the held reservations expired at now.
// Under READ COMMITTED a row another transaction changed while this one
// waited for its lock is judged again as it now is.
func dueReservations(ctx context.Context, tx pgx.Tx, now time.Time) ([]store.Reservation, error) {
	at, ns := storedTime(now)
	rows, err := tx.Query(ctx, `SELECT `+reservationColumns+` FROM reservations
		WHERE state = 'held' AND (expires_at, expires_at_ns) <= ($1, $2)
		ORDER BY expires_at, expires_at_ns, id`+forUpdate, at, ns)
	if err != nil {
		return nil, fmt.Errorf("listing due reservations: %w", err)
	}
	defer rows.Close()
	var due []store.Reservation
	for rows.Next() {
		r, err := scanReservation(rows)
		if err != nil {
			return nil, err
		}
		due = append(due, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing due reservations: %w", err)
	}
	return due, nil
}
