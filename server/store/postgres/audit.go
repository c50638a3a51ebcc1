package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store"
)

// evidence is what the other tables say about one entitlement.
type evidence struct {
	HeldReservations     int64  // reservations in state held
	ConsumedReservations int64  // reservations in state consumed
	Ledger               counts // the ledger's deltas, summed
}

// checkEntitlement returns one violation per broken rule. It is pure, and
// the SQLite store's word for word (same rules, same messages, so `aktuald
// admin audit` says the same on either database); it belongs in package
// store, shared, as Release.Validate is.
func checkEntitlement(e store.Entitlement, ev evidence) []store.Violation {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if sum := e.Remaining + e.Held + e.Consumed; e.Purchased != sum {
		add("purchased %d != remaining %d + held %d + consumed %d (= %d)", e.Purchased, e.Remaining, e.Held, e.Consumed, sum)
	}
	for _, c := range []struct {
		name string
		n    int64
	}{{"purchased", e.Purchased}, {"remaining", e.Remaining}, {"held", e.Held}, {"consumed", e.Consumed}, {"overdraft", e.Overdraft}} {
		if c.n < 0 {
			add("%s is negative (%d)", c.name, c.n)
		}
	}
	if e.Held != ev.HeldReservations {
		add("held %d != %d reservations in state held", e.Held, ev.HeldReservations)
	}
	// Every consumed reservation either consumed a purchased unit or was
	// recorded as an overdraft (see Complete).
	if n := e.Consumed + e.Overdraft; n != ev.ConsumedReservations {
		add("consumed %d + overdraft %d (= %d) != %d reservations in state consumed", e.Consumed, e.Overdraft, n, ev.ConsumedReservations)
	}
	l := ev.Ledger
	for _, c := range []struct {
		name         string
		have, replay int64
	}{
		{"purchased", e.Purchased, l.Purchased},
		{"remaining", e.Remaining, l.Remaining},
		{"held", e.Held, l.Held},
		{"consumed", e.Consumed, l.Consumed},
		{"overdraft", e.Overdraft, l.Overdraft},
	} {
		if c.have != c.replay {
			add("%s is %d but the ledger replays to %d", c.name, c.have, c.replay)
		}
	}

	var out []store.Violation
	for _, p := range problems {
		out = append(out, store.Violation{EntitlementID: e.ID, Customer: e.Customer, Problem: p})
	}
	return out
}

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
