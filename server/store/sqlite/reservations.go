package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// Reserve moves one unit remaining → held (see store.ReserveParams).
//
// The idempotency key is looked up first, so a repeat is answered however
// the entitlement has changed since (exhausted, deactivated);
// store.ReserveParams.CheckRepeat says what a repeat must match.
func (s *Store) Reserve(ctx context.Context, p store.ReserveParams) (store.Reservation, store.Entitlement, error) {
	if err := p.Validate(); err != nil {
		return store.Reservation{}, store.Entitlement{}, err
	}
	now := store.OrNow(p.Now)
	var (
		r store.Reservation
		e store.Entitlement
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q := s.prepared(tx)
		prior, err := reservationWhere(ctx, q, "idempotency_key = ?", p.IdempotencyKey)
		switch {
		case err == nil:
			r = prior
			e, err = repeatedEntitlement(ctx, q, prior, p)
			return err
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if e, err = entitlementByCredential(ctx, q, p.Credential); err != nil {
			return err
		}
		if r, err = p.NewReservation(e, now); err != nil {
			return err
		}
		// Inserted before the move: the ledger row refers to it.
		if err := insertReservation(ctx, q, r); err != nil {
			return err
		}
		if p.SessionID != "" {
			if err := useSession(ctx, q, p.SessionID, r.ID); err != nil {
				return err
			}
		}
		e, err = move(ctx, q, e.ID, r.ID, store.LedgerReserve, store.LedgerMoves[store.LedgerReserve], now, installer)
		if errors.Is(err, store.ErrWouldGoNegative) {
			return store.ErrExhausted
		}
		return err
	})
	if err != nil {
		return store.Reservation{}, store.Entitlement{}, fmt.Errorf("reserving %s %s→%s (key %s): %w", p.Product, p.FromVersion, p.ToVersion, p.IdempotencyKey, err)
	}
	return r, e, nil
}

// repeatedEntitlement checks that p asks for what prior was made for (see
// store.ReserveParams.CheckRepeat) and returns the entitlement as it now is.
func repeatedEntitlement(ctx context.Context, q querier, prior store.Reservation, p store.ReserveParams) (store.Entitlement, error) {
	e, err := entitlementByCredential(ctx, q, p.Credential)
	return p.CheckRepeat(prior, e, err)
}

func insertReservation(ctx context.Context, q querier, r store.Reservation) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO reservations (id, idempotency_key, entitlement_id, product, from_version, to_version,
		    machine_id, state, created_at, updated_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.IdempotencyKey, r.EntitlementID, r.Product, r.FromVersion, r.ToVersion,
		r.MachineID, r.State, formatTime(r.CreatedAt), formatTime(r.UpdatedAt), formatTime(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("inserting reservation: %w", err)
	}
	return nil
}

// Complete moves held → consumed; idempotent. store.CompleteKind decides
// what it records for a reservation in each state.
func (s *Store) Complete(ctx context.Context, id string, now time.Time) (store.Reservation, store.Entitlement, error) {
	now = store.OrNow(now)
	return s.finish(ctx, id, "completing", func(ctx context.Context, q querier, r store.Reservation) (string, store.Entitlement, error) {
		kind, err := store.CompleteKind(r.State, func() (int64, error) {
			e, err := entitlementWhere(ctx, q, "id = ?", r.EntitlementID)
			return e.Remaining, err
		})
		if kind == "" || err != nil {
			return "", store.Entitlement{}, err
		}
		e, err := move(ctx, q, r.EntitlementID, r.ID, kind, store.LedgerMoves[kind], now, installer)
		return api.StateConsumed, e, err
	}, now)
}

// Release moves held → remaining; idempotent for released or expired
// reservations (see store.ReleaseKind).
func (s *Store) Release(ctx context.Context, id string, now time.Time) (store.Reservation, store.Entitlement, error) {
	now = store.OrNow(now)
	return s.finish(ctx, id, "releasing", func(ctx context.Context, q querier, r store.Reservation) (string, store.Entitlement, error) {
		kind, err := store.ReleaseKind(r.State)
		if kind == "" || err != nil {
			return "", store.Entitlement{}, err
		}
		e, err := move(ctx, q, r.EntitlementID, r.ID, kind, store.LedgerMoves[kind], now, installer)
		return api.StateReleased, e, err
	}, now)
}

// finish runs step on reservation id in one transaction. step returns the
// reservation's new state and the entitlement as step's move left it, or ""
// to leave both as they are (an idempotent repeat); finish records the
// state and returns both records as they end. step must use the context
// it is given, not its caller's (see write).
func (s *Store) finish(ctx context.Context, id, doing string, step func(context.Context, querier, store.Reservation) (string, store.Entitlement, error), now time.Time) (store.Reservation, store.Entitlement, error) {
	var (
		r store.Reservation
		e store.Entitlement
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q := s.prepared(tx)
		var err error
		if r, err = reservationWhere(ctx, q, "id = ?", id); err != nil {
			return err
		}
		state, moved, err := step(ctx, q, r)
		if err != nil {
			return err
		}
		if state == "" {
			e, err = entitlementWhere(ctx, q, "id = ?", r.EntitlementID)
			return err
		}
		if err := setState(ctx, q, r.ID, r.State, state, now); err != nil {
			return err
		}
		r.State, r.UpdatedAt, e = state, now, moved
		return nil
	})
	if err != nil {
		return store.Reservation{}, store.Entitlement{}, fmt.Errorf("%s reservation %s: %w", doing, id, err)
	}
	return r, e, nil
}

// setState moves a reservation from one state to another; the from-state
// in the WHERE clause guards against a change this transaction did not see.
func setState(ctx context.Context, q querier, id, from, to string, now time.Time) error {
	res, err := q.ExecContext(ctx, `UPDATE reservations SET state = ?, updated_at = ? WHERE id = ? AND state = ?`,
		to, formatTime(now), id, from)
	if err != nil {
		return fmt.Errorf("marking reservation %s %s: %w", id, to, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("marking reservation %s %s: %w", id, to, err)
	} else if n != 1 {
		return fmt.Errorf("marking reservation %s %s: it is no longer %s", id, to, from)
	}
	return nil
}

// ExpireReservations releases held reservations whose ExpiresAt <= now, in
// one transaction, and returns how many.
func (s *Store) ExpireReservations(ctx context.Context, now time.Time) (int, error) {
	now = store.OrNow(now)
	var n int
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		due, err := dueReservations(ctx, tx, now)
		if err != nil {
			return err
		}
		for _, r := range due {
			if _, err := move(ctx, tx, r.EntitlementID, r.ID, store.LedgerExpire, store.LedgerMoves[store.LedgerExpire], now, expiry); err != nil {
				return err
			}
			if err := setState(ctx, tx, r.ID, api.StateHeld, api.StateExpired, now); err != nil {
				return err
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

// dueReservations lists the held reservations expired at now. It reads them
// all before the caller writes: the rows must be closed first.
func dueReservations(ctx context.Context, tx *sql.Tx, now time.Time) ([]store.Reservation, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+reservationColumns+` FROM reservations
		WHERE state = 'held' AND expires_at <= ? ORDER BY expires_at, id`, formatTime(now))
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

// Reservation finds by ID: ErrNotFound when none.
func (s *Store) Reservation(ctx context.Context, id string) (store.Reservation, error) {
	return reservationWhere(ctx, s.prepared(nil), "id = ?", id)
}

// ReservationByKey finds the reservation a reserve with this idempotency
// key made, and its entitlement as it now is, in one snapshot.
func (s *Store) ReservationByKey(ctx context.Context, key string) (store.Reservation, store.Entitlement, error) {
	var (
		r store.Reservation
		e store.Entitlement
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = reservationWhere(ctx, tx, "idempotency_key = ?", key); err != nil {
			return err
		}
		e, err = entitlementWhere(ctx, tx, "id = ?", r.EntitlementID)
		return err
	})
	return r, e, err
}

// ConsumedVersions lists the distinct to-versions of an entitlement's
// consumed reservations for product.
func (s *Store) ConsumedVersions(ctx context.Context, entitlementID int64, product string) ([]string, error) {
	return storesql.ConsumedVersions(ctx, shared{s.db}, entitlementID, product)
}

const reservationColumns = `id, idempotency_key, entitlement_id, product, from_version, to_version,
	machine_id, state, created_at, updated_at, expires_at`

// reservationWhere finds the one reservation matching cond (a constant of
// this package): ErrNotFound when none.
func reservationWhere(ctx context.Context, q querier, cond string, args ...any) (store.Reservation, error) {
	r, err := scanReservation(q.QueryRowContext(ctx, `SELECT `+reservationColumns+` FROM reservations WHERE `+cond, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Reservation{}, fmt.Errorf("reservation: %w", store.ErrNotFound)
	}
	return r, err
}

func scanReservation(sc scanner) (store.Reservation, error) {
	var (
		r                         store.Reservation
		created, updated, expires string
	)
	err := sc.Scan(&r.ID, &r.IdempotencyKey, &r.EntitlementID, &r.Product, &r.FromVersion, &r.ToVersion,
		&r.MachineID, &r.State, &created, &updated, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Reservation{}, err
	} else if err != nil {
		return store.Reservation{}, fmt.Errorf("reading reservation: %w", err)
	}
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&r.CreatedAt, created}, {&r.UpdatedAt, updated}, {&r.ExpiresAt, expires}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return store.Reservation{}, fmt.Errorf("reading reservation %s: %w", r.ID, err)
		}
	}
	return r, nil
}
