package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store"
)

// ConsumedUpdates lists the consumed reservations machine made for
// product, oldest first, at most 100 (store.Controls).
func (s *Store) ConsumedUpdates(ctx context.Context, product, machine string) ([]store.Reservation, error) {
	var out []store.Reservation
	err := s.read(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `SELECT `+reservationColumns+` FROM reservations
			WHERE machine_id = $1 AND product = $2 AND state = 'consumed' ORDER BY created_at, created_at_ns LIMIT 100`, machine, product)
		if err != nil {
			return fmt.Errorf("listing the updates of a machine: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanReservation(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}
