package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// move is one reservation of the history: entitlement e's i-th (1-based).
type move struct{ e, i int }

// rounds lists every reservation in "round" order, as history_pg.go's SQL
// makes them: reservation 1 of every entitlement, then 2, ….
func rounds(plans []Plan) []move {
	order := make([]int, len(plans))
	for i := range order {
		order[i] = i
	}
	n := func(e int) int { return plans[e].Updates + plans[e].Held }
	slices.SortStableFunc(order, func(a, b int) int { return n(b) - n(a) })
	var out []move
	for i := 1; len(order) > 0 && n(order[0]) >= i; i++ {
		for _, e := range order {
			if n(e) < i {
				break
			}
			out = append(out, move{e, i})
		}
	}
	return out
}

// moveTime is when reservation m was made (see history_pg.go).
func (g *gen) moveTime(m move) time.Time {
	p := g.plans[m.e]
	created := g.entitlement(m.e).customer.Created
	return created.Add(time.Duration(float64(g.now.Sub(created)) * float64(m.i) / float64(p.Updates+p.Held+1)))
}

func sqliteHistory(ctx context.Context, db *sql.DB, g *gen) error {
	err := inserts(ctx, db, `INSERT INTO ledger (entitlement_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, actor, reason)
		VALUES (?, 'purchase', ?, ?, 0, 0, 0, ?, 'local:', '')`, len(g.plans), func(e int) []any {
		p := g.plans[e]
		return []any{int64(e + 1), p.Purchased(), p.Purchased(), g.entitlement(e).customer.Created.Format(sqliteTime)}
	})
	if err != nil {
		return fmt.Errorf("purchases: %w", err)
	}
	moves := rounds(g.plans)
	err = inserts(ctx, db, `INSERT INTO reservations (id, idempotency_key, entitlement_id, product, from_version, to_version,
		machine_id, state, created_at, updated_at, expires_at) VALUES (?1, ?1, ?2, 'ledger', '1.0.0', '2.0.0', ?3, ?4, ?5, ?5, ?6)`,
		len(moves), func(j int) []any {
			m := moves[j]
			t, state, expires := g.moveTime(m), "consumed", g.moveTime(m).Add(7*24*time.Hour)
			if m.i > g.plans[m.e].Updates {
				state, expires = "held", g.now.Add(7*24*time.Hour)
			}
			return []any{idText(int64(m.e+1), m.i), int64(m.e + 1), fmt.Sprintf("machine-%d", m.e+1), state,
				t.Format(sqliteTime), expires.Format(sqliteTime)}
		})
	if err != nil {
		return fmt.Errorf("reservations: %w", err)
	}
	// Each consumed reservation's reserve and complete rows, adjacent.
	type row struct {
		m      move
		reserv bool
	}
	var rows []row
	for _, m := range moves {
		rows = append(rows, row{m, true})
		if m.i <= g.plans[m.e].Updates {
			rows = append(rows, row{m, false})
		}
	}
	err = inserts(ctx, db, `INSERT INTO ledger (entitlement_id, reservation_id, kind, d_purchased, d_remaining, d_held, d_consumed,
		d_overdraft, at, actor, reason) VALUES (?, ?, ?, 0, ?, ?, ?, 0, ?, 'installer', '')`, len(rows), func(j int) []any {
		r := rows[j]
		kind, rem, held, cons := "reserve", -1, 1, 0
		if !r.reserv {
			kind, rem, held, cons = "complete", 0, -1, 1
		}
		return []any{int64(r.m.e + 1), idText(int64(r.m.e+1), r.m.i), kind, rem, held, cons, g.moveTime(r.m).Format(sqliteTime)}
	})
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
