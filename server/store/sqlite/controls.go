package sqlite

import (
	"context"
	"fmt"

	"github.com/aktual/aktual/server/store"
)

// ConsumedUpdates lists the consumed reservations machine made for
// product, oldest first, at most 100 (store.Controls).
func (s *Store) ConsumedUpdates(ctx context.Context, product, machine string) ([]store.Reservation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+reservationColumns+` FROM reservations
		WHERE machine_id = ? AND product = ? AND state = 'consumed' ORDER BY created_at LIMIT 100`, machine, product)
	if err != nil {
		return nil, fmt.Errorf("listing the updates of a machine: %w", err)
	}
	defer rows.Close()
	var out []store.Reservation
	for rows.Next() {
		r, err := scanReservation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
