package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store"
)

// evidence is what the other tables say about one entitlement; the rules
// are the store package's, shared by every store.
type evidence = store.Evidence

var checkEntitlement = store.CheckEntitlement

// Audit checks every entitlement (see checkEntitlement) over one snapshot,
// so a reservation made during the audit cannot look like a violation.
func (s *Store) Audit(ctx context.Context) ([]store.Violation, error) {
	var out []store.Violation
	err := s.read(ctx, func(tx pgx.Tx) error {
		all, err := allEntitlements(ctx, tx)
		if err != nil {
			return err
		}
		ev, err := gatherEvidence(ctx, tx)
		if err != nil {
			return err
		}
		for _, e := range all {
			out = append(out, checkEntitlement(e, ev[e.ID])...)
		}
		return nil
	})
	if err != nil {
		return nil, scrub(fmt.Errorf("auditing: %w", err), s.secret)
	}
	return out, nil
}

// gatherEvidence sums reservations and ledger rows per entitlement.
func gatherEvidence(ctx context.Context, tx pgx.Tx) (map[int64]evidence, error) {
	ev := map[int64]evidence{}
	rows, err := tx.Query(ctx, `
		SELECT entitlement_id, count(*) FILTER (WHERE state = 'held'), count(*) FILTER (WHERE state = 'consumed')
		FROM reservations GROUP BY entitlement_id`)
	if err != nil {
		return nil, fmt.Errorf("counting reservations: %w", err)
	}
	for rows.Next() {
		var (
			id  int64
			cur evidence
		)
		if err := rows.Scan(&id, &cur.HeldReservations, &cur.ConsumedReservations); err != nil {
			rows.Close()
			return nil, fmt.Errorf("counting reservations: %w", err)
		}
		ev[id] = cur
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting reservations: %w", err)
	}

	rows, err = tx.Query(ctx, `
		SELECT entitlement_id, sum(d_purchased)::bigint, sum(d_remaining)::bigint, sum(d_held)::bigint,
		       sum(d_consumed)::bigint, sum(d_overdraft)::bigint
		FROM ledger GROUP BY entitlement_id`)
	if err != nil {
		return nil, fmt.Errorf("replaying the ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			l  counts
		)
		if err := rows.Scan(&id, &l.Purchased, &l.Remaining, &l.Held, &l.Consumed, &l.Overdraft); err != nil {
			return nil, fmt.Errorf("replaying the ledger: %w", err)
		}
		cur := ev[id]
		cur.Ledger = l
		ev[id] = cur
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replaying the ledger: %w", err)
	}
	return ev, nil
}
