package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

const sessionColumns = `id, serial, product, from_version, to_version, machine_id, challenge_hash,
	state, attempts, COALESCE(reservation_id, ''), created_at, expires_at`

// CreateSession records a new open session; a reused challenge is
// store.ErrConflict.
func (s *Store) CreateSession(ctx context.Context, cs store.ClassicSession) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO classic_sessions (id, serial, product, from_version, to_version, machine_id,
			    challenge_hash, state, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			cs.ID, cs.Serial, cs.Product, cs.FromVersion, cs.ToVersion, cs.MachineID,
			cs.ChallengeHash, api.SessionOpen, formatTime(store.OrNow(cs.CreatedAt)), formatTime(cs.ExpiresAt))
		if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: classic_sessions.challenge_hash") {
			return fmt.Errorf("the challenge was already used: %w", store.ErrConflict)
		} else if err != nil {
			return fmt.Errorf("creating session: %w", err)
		}
		return nil
	})
}

// Session finds a session by ID.
func (s *Store) Session(ctx context.Context, id string) (store.ClassicSession, error) {
	return sessionWhere(ctx, s.db, id)
}

// ConfirmSession moves open → confirmed (see store.ClassicSession.CheckConfirm).
func (s *Store) ConfirmSession(ctx context.Context, id string) (store.ClassicSession, error) {
	var cs store.ClassicSession
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if cs, err = sessionWhere(ctx, tx, id); err != nil {
			return err
		}
		if change, err := cs.CheckConfirm(); !change || err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE classic_sessions SET state = ? WHERE id = ? AND state = ?`,
			api.SessionConfirmed, id, api.SessionOpen); err != nil {
			return err
		}
		cs.State = api.SessionConfirmed
		return nil
	})
	return cs, err
}

// FailSessionAttempt counts a wrong Internet code and locks the session at
// maxAttempts. A used or locked session is left as it is.
func (s *Store) FailSessionAttempt(ctx context.Context, id string, maxAttempts int) (store.ClassicSession, error) {
	var cs store.ClassicSession
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE classic_sessions
			SET attempts = attempts + 1,
			    state = CASE WHEN attempts + 1 >= ? THEN 'locked' ELSE state END
			WHERE id = ? AND state IN ('open', 'confirmed')`, maxAttempts, id); err != nil {
			return err
		}
		var err error
		cs, err = sessionWhere(ctx, tx, id)
		return err
	})
	return cs, err
}

// useSession marks a session used by a reservation, inside the reserve's
// transaction: one session, one reservation.
func useSession(ctx context.Context, q querier, id, reservationID string) error {
	res, err := q.ExecContext(ctx, `
		UPDATE classic_sessions SET state = ?, reservation_id = ?
		WHERE id = ? AND state IN (?, ?)`,
		api.SessionUsed, reservationID, id, api.SessionOpen, api.SessionConfirmed)
	if err != nil {
		return fmt.Errorf("using session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return store.ErrSessionUsed
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func sessionWhere(ctx context.Context, q queryer, id string) (store.ClassicSession, error) {
	var (
		cs               store.ClassicSession
		created, expires string
	)
	err := q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM classic_sessions WHERE id = ?`, id).Scan(
		&cs.ID, &cs.Serial, &cs.Product, &cs.FromVersion, &cs.ToVersion, &cs.MachineID, &cs.ChallengeHash,
		&cs.State, &cs.Attempts, &cs.ReservationID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return cs, store.ErrNotFound
	} else if err != nil {
		return cs, fmt.Errorf("reading session: %w", err)
	}
	if cs.CreatedAt, err = parseTime(created); err != nil {
		return cs, err
	}
	cs.ExpiresAt, err = parseTime(expires)
	return cs, err
}
