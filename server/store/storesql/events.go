package storesql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aktual/aktual/server/store"
)

// The audit log and the throttle.

// InsertEvent appends e to the audit log in q's transaction, as made by a
// (its name, address and reason; e's own are used when a's are empty, so
// RecordEvent can pass an event whole). e.At zero is now.
func InsertEvent(ctx context.Context, q Querier, e store.AuditEvent, a store.Actor) error {
	if a.Name != "" {
		e.Actor = a.Name
	}
	if a.Address != "" {
		e.Address = a.Address
	}
	if a.Reason != "" {
		e.Reason = a.Reason
	}
	if strings.TrimSpace(e.Actor) == "" || e.Action == "" {
		return fmt.Errorf("an audit event needs an actor and an action (%q by %q)", e.Action, e.Actor)
	}
	var entitlement any // NULL for none
	if e.EntitlementID != 0 {
		entitlement = e.EntitlementID
	}
	_, err := q.Exec(ctx, `
		INSERT INTO audit_events (at, actor, address, action, customer, entitlement_id, detail, reason, distributor)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
		        coalesce((SELECT distributor FROM customers WHERE name = $5 AND $5 <> ''), ''))`,
		Nanos(store.OrNow(e.At)), e.Actor, e.Address, e.Action, e.Customer, entitlement, e.Detail, e.Reason)
	if err != nil {
		return fmt.Errorf("recording audit event %s: %w", e.Action, err)
	}
	return nil
}

// RecordEvent appends an audit event that goes with no change of counts.
func (s StaffStore) RecordEvent(ctx context.Context, e store.AuditEvent) error {
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		return InsertEvent(ctx, q, e, store.Actor{})
	}))
}

const eventColumns = `id, at, actor, address, action, customer, coalesce(entitlement_id, 0), detail, reason`

func scanEvent(r Row) (store.AuditEvent, error) {
	var (
		e  store.AuditEvent
		at int64
	)
	err := r.Scan(&e.ID, &at, &e.Actor, &e.Address, &e.Action, &e.Customer, &e.EntitlementID, &e.Detail, &e.Reason)
	e.At = Time(at)
	return e, err
}

// Events lists the audit log, newest first (see store.AuditQuery), and the
// Before of the next page (0 after the last).
func (s StaffStore) Events(ctx context.Context, aq store.AuditQuery) ([]store.AuditEvent, int64, error) {
	var w filter
	if aq.Customer != "" {
		w.and("customer = " + w.arg(aq.Customer))
	}
	if aq.Actor != "" {
		w.and("actor = " + w.arg(aq.Actor))
	}
	if aq.Distributor != "" {
		// The distributor the customer had when the event was written,
		// not now: a customer moved away takes no history along.
		w.and("distributor = " + w.arg(aq.Distributor))
	}
	if !aq.From.IsZero() {
		w.and("at >= " + w.arg(Nanos(aq.From)))
	}
	if !aq.To.IsZero() {
		w.and("at < " + w.arg(Nanos(aq.To)))
	}
	if aq.Before > 0 {
		w.and("id < " + w.arg(aq.Before))
	}
	n := aq.PageSize()
	limit := w.arg(int64(n + 1))
	rows, err := s.DB.Query(ctx, `SELECT `+eventColumns+` FROM audit_events`+w.where()+` ORDER BY id DESC LIMIT `+limit, w.args...)
	events, err := collect(rows, err, "listing the audit log", scanEvent)
	if err != nil {
		return nil, 0, s.clean(err)
	}
	var next int64
	if len(events) > n {
		events = events[:n]
		next = events[n-1].ID
	}
	return events, next, nil
}

// throttleSweep is how rarely (one Hit in so many) a Hit also forgets the
// keys whose window is over, so the table holds only live windows.
const throttleSweep = 64

// Hit counts one hit on key in a fixed window of length window that
// starts at the first hit, and returns the count so far. One statement,
// an upsert that starts a new window when the current one is over: under
// concurrency (many replicas hitting one key) each hit is counted once,
// as the database serialises the updates of the key's row.
func (s StaffStore) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (store.ThrottleResult, error) {
	if key == "" || window <= 0 {
		return store.ThrottleResult{}, fmt.Errorf("a throttle hit needs a key and a positive window (%q, %v)", key, window)
	}
	now = store.OrNow(now)
	var res store.ThrottleResult
	err := s.Write(ctx, func(ctx context.Context, q Querier) error {
		var end int64
		err := q.QueryRow(ctx, `
			INSERT INTO throttle (key, count, window_end) VALUES ($1, 1, $3)
			ON CONFLICT (key) DO UPDATE SET
			    count = CASE WHEN throttle.window_end <= $2 THEN 1 ELSE throttle.count + 1 END,
			    window_end = CASE WHEN throttle.window_end <= $2 THEN excluded.window_end ELSE throttle.window_end END
			RETURNING count, window_end`, key, Nanos(now), Nanos(now.Add(window))).Scan(&res.Count, &end)
		if err != nil {
			return fmt.Errorf("counting a hit on %s: %w", key, err)
		}
		res.ResetAt = Time(end)
		if rand.IntN(throttleSweep) == 0 {
			if _, err := q.Exec(ctx, `DELETE FROM throttle WHERE window_end <= $1`, Nanos(now)); err != nil {
				return fmt.Errorf("forgetting throttle windows that are over: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return store.ThrottleResult{}, s.clean(err)
	}
	return res, nil
}

// Throttle returns a key's count without counting: 0 (and no ResetAt) when
// its window is over or the key unknown.
func (s StaffStore) Throttle(ctx context.Context, key string, now time.Time) (store.ThrottleResult, error) {
	now = store.OrNow(now)
	var (
		res store.ThrottleResult
		end int64
	)
	err := s.DB.QueryRow(ctx, `SELECT count, window_end FROM throttle WHERE key = $1 AND window_end > $2`,
		key, Nanos(now)).Scan(&res.Count, &end)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ThrottleResult{}, nil
	case err != nil:
		return store.ThrottleResult{}, s.clean(fmt.Errorf("reading throttle %s: %w", key, err))
	}
	res.ResetAt = Time(end)
	return res, nil
}

// ClearThrottle forgets a key.
func (s StaffStore) ClearThrottle(ctx context.Context, key string) error {
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM throttle WHERE key = $1`, key); err != nil {
			return fmt.Errorf("clearing throttle %s: %w", key, err)
		}
		return nil
	}))
}

// Unhit takes one hit back from key's count (never below zero).
func (s StaffStore) Unhit(ctx context.Context, key string) error {
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		// A count of one goes with its row (counts are positive).
		if _, err := q.Exec(ctx, `DELETE FROM throttle WHERE key = $1 AND count <= 1`, key); err != nil {
			return fmt.Errorf("taking a hit back from throttle %s: %w", key, err)
		}
		if _, err := q.Exec(ctx, `UPDATE throttle SET count = count - 1 WHERE key = $1 AND count > 1`, key); err != nil {
			return fmt.Errorf("taking a hit back from throttle %s: %w", key, err)
		}
		return nil
	}))
}
