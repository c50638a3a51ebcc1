package main

import (
	"context"
	"fmt"
	"strings"
)

// The history as SQL over bigdb_plan (see copyPeople). Reservation i of an
// entitlement with n is made at created + (end - created)·i/(n+1); its
// first Updates reservations are consumed, the rest held (expiring a week
// from now). The rows go in "round" order, reservation 1 of every
// entitlement, then 2, …: each entitlement's rows are spread over the
// table, as years of updates spread them, and no sort is needed. A
// reservation's ID puts the round first, so that the IDs come in their
// index's order: each is added at the index's end, not at a random page.
const (
	purchasesSQL = `
		INSERT INTO ledger (entitlement_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns, actor, reason)
		SELECT id, 'purchase', updates + held + remaining, updates + held + remaining, 0, 0, 0, created, 0, 'local:', ''
		FROM bigdb_plan ORDER BY id`

	roundsSQL = `
		FROM generate_series(1, (SELECT max(n) FROM bigdb_plan)) AS g(i)
		CROSS JOIN LATERAL (SELECT id, updates, n, created FROM bigdb_plan p WHERE p.n >= g.i) p
		CROSS JOIN LATERAL (SELECT p.created + ($1::timestamptz - p.created) * g.i / (p.n + 1) AS t) t`

	reservationsSQL = `
		INSERT INTO reservations (id, idempotency_key, entitlement_id, product, from_version, to_version, machine_id,
		                          state, created_at, created_at_ns, updated_at, updated_at_ns, expires_at, expires_at_ns)
		SELECT 'bigdb-' || lpad(g.i::text, 6, '0') || '-' || lpad(p.id::text, 8, '0'), 'bigdb-' || lpad(g.i::text, 6, '0') || '-' || lpad(p.id::text, 8, '0'), p.id, 'ledger', '1.0.0', '2.0.0',
		       'machine-' || p.id, CASE WHEN g.i <= p.updates THEN 'consumed' ELSE 'held' END,
		       t.t, 0, t.t, 0, CASE WHEN g.i <= p.updates THEN t.t ELSE now() END + interval '7 days', 0` + roundsSQL

	// A consumed reservation's reserve and complete rows are adjacent (a
	// set-returning function in the select list keeps them so).
	movesSQL = `
		INSERT INTO ledger (entitlement_id, reservation_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft,
		                    at, at_ns, actor, reason)
		SELECT id, rid, kind, 0, CASE kind WHEN 'reserve' THEN -1 ELSE 0 END, CASE kind WHEN 'reserve' THEN 1 ELSE -1 END,
		       CASE kind WHEN 'reserve' THEN 0 ELSE 1 END, 0, t, 0, 'installer', ''
		FROM (SELECT p.id, 'bigdb-' || lpad(g.i::text, 6, '0') || '-' || lpad(p.id::text, 8, '0') AS rid, t.t,
		             unnest(CASE WHEN g.i <= p.updates THEN ARRAY['reserve', 'complete'] ELSE ARRAY['reserve'] END) AS kind` +
		roundsSQL + `) moves`
)

// historySessions is how many sessions insert the history side by side,
// each its share of the entitlements (by ID modulo): one a core of the
// machines the benchmark runs on.
const historySessions = 2

// insertHistory makes the reservations and the ledger from the plans: the
// purchases, then each session its share of the reservations and moves.
func insertHistory(ctx context.Context, url string, g *gen) error {
	conn, err := connect(ctx, url)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, purchasesSQL)
	_ = conn.Close(ctx) // nothing left uncommitted
	if err != nil {
		return err
	}
	errs := make(chan error, historySessions)
	for k := range historySessions {
		go func() { errs <- historyShare(ctx, url, g, k) }()
	}
	for range historySessions {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
}

// historyShare inserts the reservations and moves of the entitlements
// whose ID modulo historySessions is k.
func historyShare(ctx context.Context, url string, g *gen, k int) error {
	conn, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) //nolint:errcheck // each statement commits on its own
	share := fmt.Sprintf(" AND p.id %% %d = %d", historySessions, k)
	for _, s := range []string{reservationsSQL, movesSQL} {
		q := strings.Replace(s, "WHERE p.n >= g.i", "WHERE p.n >= g.i"+share, 1)
		if _, err := conn.Exec(ctx, q, g.now); err != nil {
			return err
		}
	}
	return nil
}
