package storesql

import (
	"context"
	"fmt"

	"github.com/aktual/aktual/server/store"
)

// Evidence sums reservations and ledger rows per entitlement: what
// store.CheckEntitlement compares each entitlement with. The sums are cast
// to bigint because PostgreSQL's sum of a bigint is a numeric. actors says
// the ledger has its actor column (schema version 6 on): a backup of an
// older version is audited without it.
func Evidence(ctx context.Context, q Querier, actors bool) (map[int64]store.Evidence, error) {
	ev := map[int64]store.Evidence{}
	rows, err := q.Query(ctx, `
		SELECT entitlement_id, count(*) FILTER (WHERE state = 'held'), count(*) FILTER (WHERE state = 'consumed')
		FROM reservations GROUP BY entitlement_id`)
	if err != nil {
		return nil, fmt.Errorf("counting reservations: %w", err)
	}
	for rows.Next() {
		var (
			id  int64
			cur store.Evidence
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

	withoutActor := `0`
	if actors {
		withoutActor = `count(*) FILTER (WHERE actor = '')`
	}
	rows, err = q.Query(ctx, `
		SELECT entitlement_id, CAST(sum(d_purchased) AS bigint), CAST(sum(d_remaining) AS bigint),
		       CAST(sum(d_held) AS bigint), CAST(sum(d_consumed) AS bigint), CAST(sum(d_overdraft) AS bigint),
		       `+withoutActor+`
		FROM ledger GROUP BY entitlement_id`)
	if err != nil {
		return nil, fmt.Errorf("replaying the ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, noActor int64
			l           store.Counts
		)
		if err := rows.Scan(&id, &l.Purchased, &l.Remaining, &l.Held, &l.Consumed, &l.Overdraft, &noActor); err != nil {
			return nil, fmt.Errorf("replaying the ledger: %w", err)
		}
		cur := ev[id]
		cur.Ledger, cur.LedgerWithoutActor = l, noActor
		ev[id] = cur
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replaying the ledger: %w", err)
	}
	return ev, nil
}

// Audit checks every entitlement against the evidence (see
// store.CheckEntitlement and Evidence for actors). Run it in one snapshot,
// so a reservation made during the audit cannot look like a violation.
func Audit(ctx context.Context, q Querier, all []store.Entitlement, actors bool) ([]store.Violation, error) {
	ev, err := Evidence(ctx, q, actors)
	if err != nil {
		return nil, err
	}
	var out []store.Violation
	for _, e := range all {
		out = append(out, store.CheckEntitlement(e, ev[e.ID])...)
	}
	return out, nil
}
