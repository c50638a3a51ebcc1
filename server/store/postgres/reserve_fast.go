package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// reserveAtOnce is the common reserve, a new key on an active update code
// of the right series with a unit left, in one statement and one round trip
// (reserveAtOnceSQL, committed on its own): no BEGIN, no lookups answered
// to Go first, no COMMIT. done is false when the statement changed nothing
// because the case is not the common one (a repeated key, an unknown,
// inactive or wrong-series credential, no unit left, a classic session, a
// hardware key): the caller then runs the reserve that looks first and
// decides in Go (Reserve's transaction), which answers it as before. The
// uncommon cases thus cost one round trip more than they did, the common
// one one fewer.
func (s *Store) reserveAtOnce(ctx context.Context, p store.ReserveParams) (r store.Reservation, e store.Entitlement, done bool, err error) {
	if p.SessionID != "" || len(p.Credential.CodeHash) == 0 || p.Credential.Validate() != nil {
		return r, e, false, nil
	}
	now := store.OrNow(p.Now)
	// The statement itself checks what NewReservation checks of the
	// entitlement (active, series), on the locked row.
	r, err = p.NewReservation(store.Entitlement{Active: true, Series: p.Series}, now)
	if err != nil {
		return r, e, false, err
	}
	err = s.retry(ctx, func() error {
		var x entitlementRow
		err := s.pool.QueryRow(ctx, reserveAtOnceSQL, reserveAtOnceArgs(r, p, now)...).Scan(x.dest()...)
		e = x.value()
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows) || wouldGoNegative(err):
		return r, e, false, nil // nothing was written: Reserve decides
	case err != nil:
		return r, e, false, moveError(err, store.LedgerReserve, 0)
	}
	r.EntitlementID = e.ID
	return r, e, true, nil
}

// reserveAtOnceSQL locks the entitlement of update code hash $10
// (FOR NO KEY UPDATE: under READ COMMITTED the newest committed version of
// the row, waited for if another transaction holds it), and only if it is
// active and of series $11 inserts reservation $1 for it, unless a
// committed reservation already has key $12 (a concurrent insert of the
// key is waited for), and moves its unit (moveCTE). It returns the
// entitlement as it ends, or no row when any of that did not hold, and then
// has written nothing. A move that would go negative fails the whole
// statement (wouldGoNegative): nothing is written either. The order of the
// locks is reserveSQL's: the entitlement, then the key.
var reserveAtOnceSQL = `WITH target AS (
		SELECT id, active, series FROM entitlements WHERE code_hash = $10 FOR NO KEY UPDATE
	), inserted AS (
		INSERT INTO reservations (id, idempotency_key, entitlement_id, product, from_version, to_version,
		    machine_id, state, created_at, created_at_ns, updated_at, updated_at_ns, expires_at, expires_at_ns)
		SELECT $1, $12, id, $13, $14, $15, $16, '` + api.StateHeld + `', $17, $18, $19, $20, $21, $22
		FROM target WHERE active AND series = $11
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING entitlement_id
	), ` + moveCTE(`id = (SELECT entitlement_id FROM inserted)`, installerActor, `''`) + ` SELECT * FROM moved`

// reserveAtOnceArgs are reserveAtOnceSQL's parameters for r, made at now.
func reserveAtOnceArgs(r store.Reservation, p store.ReserveParams, now time.Time) []any {
	created, createdNS := storedTime(r.CreatedAt)
	updated, updatedNS := storedTime(r.UpdatedAt)
	expires, expiresNS := storedTime(r.ExpiresAt)
	return append(moveArgs(r.ID, store.LedgerReserve, store.LedgerMoves[store.LedgerReserve], now),
		p.Credential.CodeHash, p.Series, r.IdempotencyKey, r.Product, r.FromVersion, r.ToVersion,
		r.MachineID, created, createdNS, updated, updatedNS, expires, expiresNS)
}
