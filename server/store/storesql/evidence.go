package storesql

import (
	"context"
	"fmt"

	"github.com/aktual/aktual/server/store"
)

// AuditSQL is the audit's one query: every entitlement in ID order with
// what the other tables say of it (store.Evidence), the reservations
// counted and the ledger's deltas summed per entitlement by the database.
// columns are the store's entitlement columns. The sums are cast to bigint
// because PostgreSQL's sum of a bigint is a numeric. actors says the ledger
// has its actor column (schema version 6 on): a backup of an older version
// is audited without it.
func AuditSQL(columns string, actors bool) string {
	withoutActor := `0`
	if actors {
		withoutActor = `count(*) FILTER (WHERE actor = '')`
	}
	return `
		SELECT ` + columns + `,
		       coalesce(r.held_n, 0), coalesce(r.consumed_n, 0),
		       coalesce(l.purchased_d, 0), coalesce(l.remaining_d, 0), coalesce(l.held_d, 0),
		       coalesce(l.consumed_d, 0), coalesce(l.overdraft_d, 0), coalesce(l.no_actor_n, 0)
		FROM entitlements
		LEFT JOIN (SELECT entitlement_id AS r_id, count(*) FILTER (WHERE state = 'held') AS held_n,
		                  count(*) FILTER (WHERE state = 'consumed') AS consumed_n
		           FROM reservations GROUP BY entitlement_id) r ON r.r_id = entitlements.id
		LEFT JOIN (SELECT entitlement_id AS l_id, CAST(sum(d_purchased) AS bigint) AS purchased_d,
		                  CAST(sum(d_remaining) AS bigint) AS remaining_d, CAST(sum(d_held) AS bigint) AS held_d,
		                  CAST(sum(d_consumed) AS bigint) AS consumed_d, CAST(sum(d_overdraft) AS bigint) AS overdraft_d,
		                  ` + withoutActor + ` AS no_actor_n
		           FROM ledger GROUP BY entitlement_id) l ON l.l_id = entitlements.id
		ORDER BY entitlements.id`
}

// Audit checks every entitlement against the evidence (see
// store.CheckEntitlement and AuditSQL), streaming: one entitlement is in
// memory at a time, whatever the database's size, and only violations
// are kept; it returns how many it checked. scan reads the store's entitlement columns from a row. Run it
// in one snapshot, so a reservation made during the audit cannot look
// like a violation.
func Audit(ctx context.Context, q Querier, columns string, scan func(Row) (store.Entitlement, error), actors bool) (int, []store.Violation, error) {
	rows, err := q.Query(ctx, AuditSQL(columns, actors))
	if err != nil {
		return 0, nil, fmt.Errorf("replaying the ledger: %w", err)
	}
	defer rows.Close()
	var (
		out     []store.Violation
		ev      store.Evidence
		l       = &ev.Ledger
		checked int
	)
	evidence := []any{&ev.HeldReservations, &ev.ConsumedReservations,
		&l.Purchased, &l.Remaining, &l.Held, &l.Consumed, &l.Overdraft, &ev.LedgerWithoutActor}
	for rows.Next() {
		e, err := scan(withMore{rows, evidence})
		if err != nil {
			return 0, nil, fmt.Errorf("replaying the ledger: %w", err)
		}
		out = append(out, store.CheckEntitlement(e, ev)...)
		checked++
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("replaying the ledger: %w", err)
	}
	return checked, out, nil
}

// withMore is a row whose Scan fills more destinations after the caller's:
// a store's entitlement scanner reads its columns, the audit the rest.
type withMore struct {
	r    Row
	more []any
}

func (w withMore) Scan(dest ...any) error { return w.r.Scan(append(dest, w.more...)...) }
