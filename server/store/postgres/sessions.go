package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

const sessionColumns = `id, serial, product, from_version, to_version, machine_id, challenge_hash,
	state, attempts, coalesce(reservation_id, ''), created_at, created_at_ns, expires_at, expires_at_ns`

// CreateSession records a new open session; a reused challenge is
// store.ErrConflict, also when two replicas are handed it at once (the
// second insert waits for the first and then breaks the UNIQUE index).
func (s *Store) CreateSession(ctx context.Context, cs store.ClassicSession) error {
	created, createdNS := storedTime(store.OrNow(cs.CreatedAt))
	expires, expiresNS := storedTime(cs.ExpiresAt)
	return s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO classic_sessions (id, serial, product, from_version, to_version, machine_id,
			    challenge_hash, state, created_at, created_at_ns, expires_at, expires_at_ns)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			cs.ID, cs.Serial, cs.Product, cs.FromVersion, cs.ToVersion, cs.MachineID,
			cs.ChallengeHash, api.SessionOpen, created, createdNS, expires, expiresNS)
		if uniqueViolation(err) == "classic_sessions_challenge_hash_key" {
			return fmt.Errorf("the challenge was already used: %w", store.ErrConflict)
		} else if err != nil {
			return fmt.Errorf("creating session: %w", err)
		}
		return nil
	})
}

// Session finds a session by ID.
func (s *Store) Session(ctx context.Context, id string) (store.ClassicSession, error) {
	cs, err := sessionWhere(ctx, s.pool, id, "")
	return cs, scrub(err, s.secret)
}

// ConfirmSession moves open → confirmed (see store.ClassicSession.CheckConfirm).
// The row is locked before its state is judged.
func (s *Store) ConfirmSession(ctx context.Context, id string) (store.ClassicSession, error) {
	var cs store.ClassicSession
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if cs, err = sessionWhere(ctx, tx, id, forUpdate); err != nil {
			return err
		}
		if change, err := cs.CheckConfirm(); !change || err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE classic_sessions SET state = $1 WHERE id = $2 AND state = $3`,
			api.SessionConfirmed, id, api.SessionOpen); err != nil {
			return err
		}
		cs.State = api.SessionConfirmed
		return nil
	})
	return cs, err
}

// FailSessionAttempt counts a wrong Internet code and locks the session at
// maxAttempts. A used or locked session is left as it is. The UPDATE
// counts from the row as it is when its lock is granted, so wrong codes
// typed at two replicas at once are both counted.
func (s *Store) FailSessionAttempt(ctx context.Context, id string, maxAttempts int) (store.ClassicSession, error) {
	var cs store.ClassicSession
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE classic_sessions
			SET attempts = attempts + 1,
			    state = CASE WHEN attempts + 1 >= $1 THEN 'locked' ELSE state END
			WHERE id = $2 AND state IN ('open', 'confirmed')`, maxAttempts, id); err != nil {
			return err
		}
		var err error
		cs, err = sessionWhere(ctx, tx, id, "")
		return err
	})
	return cs, err
}

// sessionWhere reads session id; lock is "" or forUpdate.
func sessionWhere(ctx context.Context, q querier, id, lock string) (store.ClassicSession, error) {
	var (
		cs                   store.ClassicSession
		created, expires     time.Time
		createdNS, expiresNS int16
	)
	err := q.QueryRow(ctx, `SELECT `+sessionColumns+` FROM classic_sessions WHERE id = $1`+lock, id).Scan(
		&cs.ID, &cs.Serial, &cs.Product, &cs.FromVersion, &cs.ToVersion, &cs.MachineID, &cs.ChallengeHash,
		&cs.State, &cs.Attempts, &cs.ReservationID, &created, &createdNS, &expires, &expiresNS)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ClassicSession{}, store.ErrNotFound
	} else if err != nil {
		return store.ClassicSession{}, fmt.Errorf("reading session: %w", err)
	}
	cs.CreatedAt, cs.ExpiresAt = loadedTime(created, createdNS), loadedTime(expires, expiresNS)
	return cs, nil
}
