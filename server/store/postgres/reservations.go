package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Reserve moves one unit remaining → held (see store.ReserveParams).
//
// The idempotency key is looked up first, so a repeat is answered however
// the entitlement has changed since (exhausted, deactivated);
// store.ReserveParams.CheckRepeat says what a repeat must match.
//
// Between replicas: the entitlement row is locked before anything is
// decided, so reservations of one entitlement take turns; a repeat of the
// key that arrives while the first is still in its transaction waits at the
// lock (same credential) or at the key's UNIQUE index (ON CONFLICT DO
// NOTHING), and once the first commits it is answered with the first's
// reservation. Should the first fail instead, the repeat proceeds as new.
func (s *Store) Reserve(ctx context.Context, p store.ReserveParams) (store.Reservation, store.Entitlement, error) {
	if err := p.Validate(); err != nil {
		return store.Reservation{}, store.Entitlement{}, err
	}
	now := store.OrNow(p.Now)
	var (
		r store.Reservation
		e store.Entitlement
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		prior, err := reservationWhere(ctx, tx, "idempotency_key = $1", p.IdempotencyKey)
		switch {
		case err == nil:
			r = prior
			e, err = repeatedEntitlement(ctx, tx, prior, p)
			return err
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if e, err = entitlementByCredential(ctx, tx, p.Credential, forUpdate); err != nil {
			return err
		}
		if r, err = p.NewReservation(e, now); err != nil {
			return err
		}
		// Inserted before the move: the ledger row refers to it.
		inserted, err := insertReservation(ctx, tx, r)
		if err != nil {
			return err
		}
		if !inserted {
			// The same key committed by another transaction since the
			// lookup above: its answer is this request's answer. Read
			// committed, so this statement sees it.
			if r, err = reservationWhere(ctx, tx, "idempotency_key = $1", p.IdempotencyKey); err != nil {
				return err
			}
			e, err = repeatedEntitlement(ctx, tx, r, p)
			return err
		}
		if p.SessionID != "" {
			if err := useSession(ctx, tx, p.SessionID, r.ID); err != nil {
				return err
			}
		}
		err = move(ctx, tx, e.ID, r.ID, store.LedgerReserve, store.LedgerMoves[store.LedgerReserve], now)
		if errors.Is(err, store.ErrWouldGoNegative) {
			return store.ErrExhausted
		} else if err != nil {
			return err
		}
		e, err = entitlementWhere(ctx, tx, "id = $1", e.ID)
		return err
	})
	if err != nil {
		return store.Reservation{}, store.Entitlement{}, fmt.Errorf("reserving %s %s→%s (key %s): %w", p.Product, p.FromVersion, p.ToVersion, p.IdempotencyKey, err)
	}
	return r, e, nil
}

// repeatedEntitlement checks that p asks for what prior was made for (see
// store.ReserveParams.CheckRepeat) and returns the entitlement as it now is.
func repeatedEntitlement(ctx context.Context, tx pgx.Tx, prior store.Reservation, p store.ReserveParams) (store.Entitlement, error) {
	e, err := entitlementByCredential(ctx, tx, p.Credential, "")
	return p.CheckRepeat(prior, e, err)
}

// insertReservation inserts r unless its idempotency key is taken by a
// committed reservation (inserted false). A concurrent insert of the same
// key is waited for: its commit means false, its rollback an insert.
func insertReservation(ctx context.Context, tx pgx.Tx, r store.Reservation) (inserted bool, err error) {
	created, createdNS := storedTime(r.CreatedAt)
	updated, updatedNS := storedTime(r.UpdatedAt)
	expires, expiresNS := storedTime(r.ExpiresAt)
	tag, err := tx.Exec(ctx, `
		INSERT INTO reservations (id, idempotency_key, entitlement_id, product, from_version, to_version,
		    machine_id, state, created_at, created_at_ns, updated_at, updated_at_ns, expires_at, expires_at_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		r.ID, r.IdempotencyKey, r.EntitlementID, r.Product, r.FromVersion, r.ToVersion,
		r.MachineID, r.State, created, createdNS, updated, updatedNS, expires, expiresNS)
	if err != nil {
		return false, fmt.Errorf("inserting reservation: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Complete moves held → consumed; idempotent. store.CompleteKind decides
// what it records for a reservation in each state.
func (s *Store) Complete(ctx context.Context, id string, now time.Time) (store.Reservation, store.Entitlement, error) {
	now = store.OrNow(now)
	return s.finish(ctx, id, "completing", func(tx pgx.Tx, r store.Reservation) (string, error) {
		kind, err := store.CompleteKind(r.State, func() (int64, error) {
			// Expired: whether a unit remains decides the kind, so the row
			// is locked before it is read.
			e, err := entitlementWhere(ctx, tx, "id = $1"+forUpdate, r.EntitlementID)
			return e.Remaining, err
		})
		if kind == "" || err != nil {
			return "", err
		}
		return api.StateConsumed, move(ctx, tx, r.EntitlementID, r.ID, kind, store.LedgerMoves[kind], now)
	}, now)
}

// Release moves held → remaining; idempotent for released or expired
// reservations (see store.ReleaseKind).
func (s *Store) Release(ctx context.Context, id string, now time.Time) (store.Reservation, store.Entitlement, error) {
	now = store.OrNow(now)
	return s.finish(ctx, id, "releasing", func(tx pgx.Tx, r store.Reservation) (string, error) {
		kind, err := store.ReleaseKind(r.State)
		if kind == "" || err != nil {
			return "", err
		}
		return api.StateReleased, move(ctx, tx, r.EntitlementID, r.ID, kind, store.LedgerMoves[kind], now)
	}, now)
}

// finish runs step on reservation id in one transaction. step returns the
// reservation's new state, or "" to leave it as it is (an idempotent
// repeat); finish records the state and returns both records as they end.
// The reservation row is locked first, so of two replicas finishing it at
// once the second sees the first's outcome (a repeat), and the sweep
// cannot expire it in between.
func (s *Store) finish(ctx context.Context, id, doing string, step func(pgx.Tx, store.Reservation) (string, error), now time.Time) (store.Reservation, store.Entitlement, error) {
	var (
		r store.Reservation
		e store.Entitlement
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = reservationWhere(ctx, tx, "id = $1"+forUpdate, id); err != nil {
			return err
		}
		state, err := step(tx, r)
		if err != nil {
			return err
		}
		if state != "" {
			if err := setState(ctx, tx, r.ID, r.State, state, now); err != nil {
				return err
			}
			r.State, r.UpdatedAt = state, now
		}
		e, err = entitlementWhere(ctx, tx, "id = $1", r.EntitlementID)
		return err
	})
	if err != nil {
		return store.Reservation{}, store.Entitlement{}, fmt.Errorf("%s reservation %s: %w", doing, id, err)
	}
	return r, e, nil
}

// setState moves a reservation from one state to another; the from-state
// in the WHERE clause guards against a change this transaction did not see.
func setState(ctx context.Context, tx pgx.Tx, id, from, to string, now time.Time) error {
	at, ns := storedTime(now)
	tag, err := tx.Exec(ctx, `UPDATE reservations SET state = $1, updated_at = $2, updated_at_ns = $3 WHERE id = $4 AND state = $5`,
		to, at, ns, id, from)
	if err != nil {
		return fmt.Errorf("marking reservation %s %s: %w", id, to, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("marking reservation %s %s: it is no longer %s", id, to, from)
	}
	return nil
}

// ExpireReservations releases held reservations whose ExpiresAt <= now, in
// one transaction, and returns how many.
//
// It locks every due reservation first, in (expiry, id) order, then moves
// the entitlements in ascending id order: two sweeps on two replicas queue
// on the first reservation instead of crossing, and a completion that
// locked a reservation first is waited for and then seen (the reservation
// is no longer held and is left out).
func (s *Store) ExpireReservations(ctx context.Context, now time.Time) (int, error) {
	now = store.OrNow(now)
	var n int
	err := s.write(ctx, func(tx pgx.Tx) error {
		due, err := dueReservations(ctx, tx, now)
		if err != nil {
			return err
		}
		slices.SortStableFunc(due, func(a, b store.Reservation) int { return cmp.Compare(a.EntitlementID, b.EntitlementID) })
		for _, r := range due {
			if err := move(ctx, tx, r.EntitlementID, r.ID, store.LedgerExpire, store.LedgerMoves[store.LedgerExpire], now); err != nil {
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

// dueReservations lists and locks the held reservations expired at now.
// Under READ COMMITTED a row another transaction changed while this one
// waited for its lock is judged again as it now is.
func dueReservations(ctx context.Context, tx pgx.Tx, now time.Time) ([]store.Reservation, error) {
	at, ns := storedTime(now)
	rows, err := tx.Query(ctx, `SELECT `+reservationColumns+` FROM reservations
		WHERE state = 'held' AND (expires_at, expires_at_ns) <= ($1, $2)
		ORDER BY expires_at, expires_at_ns, id`+forUpdate, at, ns)
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
	r, err := reservationWhere(ctx, s.pool, "id = $1", id)
	return r, scrub(err, s.secret)
}

const reservationColumns = `id, idempotency_key, entitlement_id, product, from_version, to_version,
	machine_id, state, created_at, created_at_ns, updated_at, updated_at_ns, expires_at, expires_at_ns`

// reservationWhere finds the one reservation matching cond (a constant of
// this package): ErrNotFound when none.
func reservationWhere(ctx context.Context, q querier, cond string, args ...any) (store.Reservation, error) {
	r, err := scanReservation(q.QueryRow(ctx, `SELECT `+reservationColumns+` FROM reservations WHERE `+cond, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Reservation{}, fmt.Errorf("reservation: %w", store.ErrNotFound)
	}
	return r, err
}

func scanReservation(sc pgx.Row) (store.Reservation, error) {
	var (
		r                         store.Reservation
		created, updated, expires time.Time
		cNS, uNS, eNS             int16
	)
	err := sc.Scan(&r.ID, &r.IdempotencyKey, &r.EntitlementID, &r.Product, &r.FromVersion, &r.ToVersion,
		&r.MachineID, &r.State, &created, &cNS, &updated, &uNS, &expires, &eNS)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Reservation{}, err
	} else if err != nil {
		return store.Reservation{}, fmt.Errorf("reading reservation: %w", err)
	}
	r.CreatedAt, r.UpdatedAt, r.ExpiresAt = loadedTime(created, cNS), loadedTime(updated, uNS), loadedTime(expires, eNS)
	return r, nil
}
