package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// Reserve moves one unit remaining → held (see store.ReserveParams). The
// common case, a new key on an update code that can pay, is one statement
// and one round trip (reserveAtOnce). Any other is decided here in two
// round trips: the lookups, then one statement that writes everything
// (reserveSQL) sent with the COMMIT (which, with a classic session, waits
// for the statement's answer: three).
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
	if r, e, done, err := s.reserveAtOnce(ctx, p); done || err != nil {
		if err != nil {
			return store.Reservation{}, store.Entitlement{}, fmt.Errorf("reserving %s %s→%s (key %s): %w", p.Product, p.FromVersion, p.ToVersion, p.IdempotencyKey, err)
		}
		return r, e, nil
	}
	now := store.OrNow(p.Now)
	var (
		r    store.Reservation
		e    store.Entitlement
		lost bool // the key was taken by another transaction since it was looked up
	)
	err := s.pipelined(ctx, func(t *pipeTx) error {
		lost = false
		var (
			prior             store.Reservation
			priorErr, credErr error // why there is none
		)
		// The entitlement is locked before the key is looked up: at READ
		// COMMITTED the lookup then reads after the wait for the lock, so
		// a repeat that queued behind its own first request (and behind a
		// deactivation, say) finds that request's reservation and is
		// answered with it, as a repeat must be, rather than refused.
		err := t.send(ctx, func(b *pgx.Batch) {
			queueEntitlementByCredential(b, p.Credential, forUpdate, &e, &credErr)
			queueReservationWhere(b, &prior, &priorErr, "idempotency_key = $1", p.IdempotencyKey)
		})
		switch {
		case err != nil:
			return err
		case priorErr == nil:
			r = prior
			e, err = p.CheckRepeat(prior, e, unknownCredential(credErr))
			return err
		case credErr != nil:
			return unknownCredential(credErr)
		}
		if r, err = p.NewReservation(e, now); err != nil {
			return err
		}
		moved, err := insertReservation(ctx, t, p, r, &e, now)
		if err != nil {
			return err
		}
		lost = !moved
		return nil
	})
	if err == nil && lost {
		// Another transaction committed the key since it was looked up:
		// its answer is this request's answer.
		r, e, err = s.repeated(ctx, p)
	}
	if err != nil {
		return store.Reservation{}, store.Entitlement{}, fmt.Errorf("reserving %s %s→%s (key %s): %w", p.Product, p.FromVersion, p.ToVersion, p.IdempotencyKey, err)
	}
	return r, e, nil
}

// insertReservation sends the insert of r and the move of its unit on the
// locked entitlement *e, which it sets to the entitlement as the move left
// it. Without a session the COMMIT goes out with them. moved is false when
// a committed reservation already had the key: the caller answers with it.
func insertReservation(ctx context.Context, t *pipeTx, p store.ReserveParams, r store.Reservation, e *store.Entitlement, now time.Time) (moved bool, err error) {
	sql := reserveSQL
	if p.SessionID != "" {
		sql = reserveSessionSQL
	}
	var inserted bool
	write := func(b *pgx.Batch) {
		b.Queue(sql, reserveArgs(r, p.SessionID, now)...).QueryRow(func(row pgx.Row) error {
			var x entitlementRow
			switch err := row.Scan(x.dest()...); {
			case errors.Is(err, pgx.ErrNoRows):
				return nil
			case err != nil:
				return err
			}
			*e, moved = x.value(), true
			return nil
		})
	}
	if p.SessionID == "" {
		err = t.commit(ctx, write)
	} else {
		// No row can also mean the session was used: then the
		// reservation must not stay, so the COMMIT waits for the answer.
		err = t.send(ctx, func(b *pgx.Batch) {
			write(b)
			b.Queue(`SELECT EXISTS (SELECT FROM reservations WHERE id = $1)`, r.ID).QueryRow(func(row pgx.Row) error {
				return row.Scan(&inserted)
			})
		})
	}
	switch {
	case wouldGoNegative(err):
		return false, store.ErrExhausted
	case err != nil:
		return false, moveError(err, store.LedgerReserve, e.ID)
	case inserted && !moved:
		return false, store.ErrSessionUsed
	}
	return moved, nil
}

// reserveSQL records reservation $1 on entitlement $10 and moves its unit,
// in one statement that leaves nothing half-done, so it can go out with the
// COMMIT. The reservation is inserted unless a committed reservation has
// its idempotency key (a concurrent insert of the key is waited for: its
// commit means no insert, its rollback an insert); with a classic session
// ($23) the session, if still open or confirmed, is then marked used by it
// (one session, one reservation: of two replicas using one session at
// once, the second waits for the first, then finds it used); the move
// (moveCTE) happens only when they did. It returns the entitlement as it
// ends, or no row when the key was taken or the session used, and fails
// when the move would go negative (exhausted).
var (
	reserveSQL        = reserveStatement(false)
	reserveSessionSQL = reserveStatement(true) // and uses session $23
)

func reserveStatement(withSession bool) string {
	sql := `WITH inserted AS (
		INSERT INTO reservations (id, idempotency_key, entitlement_id, product, from_version, to_version,
		    machine_id, state, created_at, created_at_ns, updated_at, updated_at_ns, expires_at, expires_at_ns)
		VALUES ($1, $11, $10, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id
	), `
	done := "inserted"
	if withSession {
		sql += `used AS (
		UPDATE classic_sessions SET state = '` + api.SessionUsed + `', reservation_id = $1
		WHERE id = $23 AND state IN ('` + api.SessionOpen + `', '` + api.SessionConfirmed + `')
		  AND EXISTS (SELECT FROM inserted)
		RETURNING id
	), `
		done = "used"
	}
	return sql + moveCTE(`id = $10 AND EXISTS (SELECT FROM `+done+`)`, installerActor, `''`) + ` SELECT * FROM moved`
}

// reserveArgs are reserveSQL's parameters for r, made at now.
func reserveArgs(r store.Reservation, sessionID string, now time.Time) []any {
	created, createdNS := storedTime(r.CreatedAt)
	updated, updatedNS := storedTime(r.UpdatedAt)
	expires, expiresNS := storedTime(r.ExpiresAt)
	args := append(moveArgs(r.ID, store.LedgerReserve, store.LedgerMoves[store.LedgerReserve], now),
		r.EntitlementID, r.IdempotencyKey, r.Product, r.FromVersion, r.ToVersion,
		r.MachineID, r.State, created, createdNS, updated, updatedNS, expires, expiresNS)
	if sessionID != "" {
		args = append(args, sessionID)
	}
	return args
}

// repeated answers p with the reservation its idempotency key was first
// used for, if p asks for what that was made for.
func (s *Store) repeated(ctx context.Context, p store.ReserveParams) (store.Reservation, store.Entitlement, error) {
	prior, err := reservationWhere(ctx, s.pool, "idempotency_key = $1", p.IdempotencyKey)
	if err != nil {
		return store.Reservation{}, store.Entitlement{}, scrub(err, s.secret)
	}
	e, err := entitlementByCredential(ctx, s.pool, p.Credential, "")
	e, err = p.CheckRepeat(prior, e, err)
	return prior, e, scrub(err, s.secret)
}

// Complete moves held → consumed; idempotent. store.CompleteKind decides
// what it records for a reservation in each state.
func (s *Store) Complete(ctx context.Context, id string, now time.Time) (store.Reservation, store.Entitlement, error) {
	return s.finish(ctx, id, "completing", api.StateConsumed, store.CompleteKind, store.OrNow(now))
}

// Release moves held → remaining; idempotent for released or expired
// reservations (see store.ReleaseKind).
func (s *Store) Release(ctx context.Context, id string, now time.Time) (store.Reservation, store.Entitlement, error) {
	kind := func(state string, _ func() (int64, error)) (string, error) { return store.ReleaseKind(state) }
	return s.finish(ctx, id, "releasing", api.StateReleased, kind, store.OrNow(now))
}

// kindFor says what finishing a reservation in state records: a ledger
// kind, or "" for nothing (an idempotent repeat). It calls remaining only
// when the answer depends on the entitlement (store.CompleteKind).
type kindFor func(state string, remaining func() (int64, error)) (string, error)

// finish ends reservation id in state to, recording what kind says, and
// returns both records as they end.
//
// The common case, a reservation still held, is one statement and one
// round trip (finishHeld). Anything else (a repeat, an expired reservation,
// an unknown ID) is decided in a transaction that locks the reservation row
// first (finishLocked). Either way the reservation is locked before its
// entitlement, so of two replicas finishing it at once the second sees the
// first's outcome (a repeat), and the sweep cannot expire it in between.
func (s *Store) finish(ctx context.Context, id, doing, to string, kind kindFor, now time.Time) (store.Reservation, store.Entitlement, error) {
	r, e, done, err := s.finishHeld(ctx, id, to, kind, now)
	if err == nil && !done {
		r, e, err = s.finishLocked(ctx, id, to, kind, now)
	}
	if err != nil {
		return store.Reservation{}, store.Entitlement{}, fmt.Errorf("%s reservation %s: %w", doing, id, err)
	}
	return r, e, nil
}

// finishHeld asks kind what finishing a held reservation records and does
// it, if reservation id is held when its row lock is granted (finishSQL);
// otherwise it changes nothing and says not done. A move that would go
// negative is not done either: finishLocked says so, naming the
// entitlement.
func (s *Store) finishHeld(ctx context.Context, id, to string, kind kindFor, now time.Time) (r store.Reservation, e store.Entitlement, done bool, err error) {
	k, err := kind(api.StateHeld, func() (int64, error) { return 0, errors.New("depends on the entitlement") })
	if k == "" || err != nil {
		return r, e, false, nil // finishLocked decides
	}
	err = s.retry(ctx, func() error {
		var err error
		r, e, err = scanFinished(s.pool.QueryRow(ctx, finishSQL, finishArgs(id, api.StateHeld, to, k, now)...))
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows) || wouldGoNegative(err):
		return r, e, false, nil
	case err != nil:
		return r, e, false, err
	}
	return r, e, true, nil
}

// finishLocked is finish in a transaction that locks reservation id, then
// decides by its state.
func (s *Store) finishLocked(ctx context.Context, id, to string, kind kindFor, now time.Time) (r store.Reservation, e store.Entitlement, err error) {
	err = s.pipelined(ctx, func(t *pipeTx) error {
		var notFound error
		err := t.send(ctx, func(b *pgx.Batch) { queueReservationWhere(b, &r, &notFound, "id = $1"+forUpdate, id) })
		if err != nil || notFound != nil {
			return cmp.Or(err, notFound)
		}
		k, err := kind(r.State, func() (int64, error) {
			// Whether a unit remains decides the kind, so the row is
			// locked before it is read.
			var notFound error
			err := t.send(ctx, func(b *pgx.Batch) {
				queueEntitlementWhere(b, &e, &notFound, "id = $1"+forUpdate, r.EntitlementID)
			})
			return e.Remaining, cmp.Or(err, notFound)
		})
		if err != nil {
			return err
		}
		if k == "" { // a repeat: both stay as they are
			var notFound error
			err := t.commit(ctx, func(b *pgx.Batch) { queueEntitlementWhere(b, &e, &notFound, "id = $1", r.EntitlementID) })
			return cmp.Or(err, notFound)
		}
		from, finished := r.State, false
		err = t.commit(ctx, func(b *pgx.Batch) {
			b.Queue(finishSQL, finishArgs(r.ID, from, to, k, now)...).QueryRow(func(row pgx.Row) error {
				fr, fe, err := scanFinished(row)
				switch {
				case errors.Is(err, pgx.ErrNoRows):
					return nil
				case err != nil:
					return err
				}
				r, e, finished = fr, fe, true
				return nil
			})
		})
		switch {
		case err != nil:
			return moveError(err, k, r.EntitlementID)
		case !finished:
			return noLonger(r.ID, from, to)
		}
		return nil
	})
	return r, e, err
}

// finishSQL moves reservation $1 from state $10 to $11, then its
// entitlement's counts (moveCTE; the ledger row names the reservation and
// actor $12), in
// one statement, and returns both as they end: reservationColumns, then
// entitlementColumns (scanFinished). A reservation not in state $10 is left
// as it is, nothing moves and there is no row; under READ COMMITTED one
// locked by another transaction is waited for and judged as it then is.
var finishSQL = `WITH marked AS (
		UPDATE reservations SET state = $11, updated_at = $8, updated_at_ns = $9
		WHERE id = $1 AND state = $10
		RETURNING ` + reservationColumns + `
	), ` + moveCTE(`id = (SELECT entitlement_id FROM marked)`, `$12::text`, `''`) + `
	SELECT marked.*, moved.* FROM marked, moved`

// finishArgs are finishSQL's parameters: reservation id from state from to
// state to, recording kind at now, by the update flow (the expiry sweep for
// an expiry).
func finishArgs(id, from, to, kind string, now time.Time) []any {
	actor := store.ActorInstaller
	if kind == store.LedgerExpire {
		actor = store.ActorExpiry
	}
	return append(moveArgs(id, kind, store.LedgerMoves[kind], now), from, to, actor)
}

// scanFinished reads finishSQL's row. Errors are PostgreSQL's as they are,
// for moveError and retry to judge.
func scanFinished(row pgx.Row) (store.Reservation, store.Entitlement, error) {
	var (
		x reservationRow
		y entitlementRow
	)
	if err := row.Scan(append(x.dest(), y.dest()...)...); err != nil {
		return store.Reservation{}, store.Entitlement{}, err
	}
	return x.value(), y.value(), nil
}

// noLonger is the error of a reservation that left state from before it
// could be moved to state to: the lock should make it impossible.
func noLonger(id, from, to string) error {
	return fmt.Errorf("marking reservation %s %s: it is no longer %s", id, to, from)
}

// Reservation finds by ID: ErrNotFound when none.
func (s *Store) Reservation(ctx context.Context, id string) (store.Reservation, error) {
	r, err := reservationWhere(ctx, s.pool, "id = $1", id)
	return r, scrub(err, s.secret)
}

// ReservationByKey finds the reservation a reserve with this idempotency
// key made, and its entitlement as it now is, in one snapshot.
func (s *Store) ReservationByKey(ctx context.Context, key string) (store.Reservation, store.Entitlement, error) {
	var (
		r store.Reservation
		e store.Entitlement
	)
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = reservationWhere(ctx, tx, "idempotency_key = $1", key); err != nil {
			return err
		}
		e, err = entitlementWhere(ctx, tx, "id = $1", r.EntitlementID)
		return err
	})
	return r, e, scrub(err, s.secret)
}

// ConsumedVersions lists the distinct to-versions of an entitlement's
// consumed reservations for product.
func (s *Store) ConsumedVersions(ctx context.Context, entitlementID int64, product string) ([]string, error) {
	vs, err := storesql.ConsumedVersions(ctx, shared{s.pool}, entitlementID, product)
	return vs, scrub(err, s.secret)
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

// queueReservationWhere queues reservationWhere on b: it sets *r, or
// *notFound when no reservation matches (an answer, not a failure of the
// batch).
func queueReservationWhere(b *pgx.Batch, r *store.Reservation, notFound *error, cond string, args ...any) {
	b.Queue(`SELECT `+reservationColumns+` FROM reservations WHERE `+cond, args...).QueryRow(func(row pgx.Row) error {
		var err error
		*r, err = scanReservation(row)
		if errors.Is(err, pgx.ErrNoRows) {
			*notFound = fmt.Errorf("reservation: %w", store.ErrNotFound)
			return nil
		}
		return err
	})
}

func scanReservation(sc pgx.Row) (store.Reservation, error) {
	var x reservationRow
	err := sc.Scan(x.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Reservation{}, err
	} else if err != nil {
		return store.Reservation{}, fmt.Errorf("reading reservation: %w", err)
	}
	return x.value(), nil
}

// reservationRow receives a row of reservationColumns, alone or beside
// other columns.
type reservationRow struct {
	r                         store.Reservation
	created, updated, expires time.Time
	cNS, uNS, eNS             int16
}

func (x *reservationRow) dest() []any {
	r := &x.r
	return []any{&r.ID, &r.IdempotencyKey, &r.EntitlementID, &r.Product, &r.FromVersion, &r.ToVersion,
		&r.MachineID, &r.State, &x.created, &x.cNS, &x.updated, &x.uNS, &x.expires, &x.eNS}
}

func (x *reservationRow) value() store.Reservation {
	r := x.r
	r.CreatedAt, r.UpdatedAt, r.ExpiresAt = loadedTime(x.created, x.cNS), loadedTime(x.updated, x.uNS), loadedTime(x.expires, x.eNS)
	return r
}
