package storesql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aktual/aktual/server/store"
)

// Console sessions and API tokens. Both are looked up by the hash of what
// the browser or script presents, and both are refused, in the statement
// that finds them, when their account is disabled: a replica that did not
// see the disabling still asks the database on every request.

const sessionColumns = `id_hash, login, csrf, address, pending, created_at, seen_at, expires_at`

func scanStaffSession(r Row) (store.StaffSession, error) {
	var (
		s                    store.StaffSession
		created, seen, until int64
	)
	err := r.Scan(&s.IDHash, &s.Login, &s.CSRF, &s.Address, &s.Pending, &created, &seen, &until)
	s.CreatedAt, s.SeenAt, s.ExpiresAt = Time(created), Time(seen), Time(until)
	return s, err
}

// CreateStaffSession records a console session for an existing login
// (store.ErrNotFound otherwise; store.ErrExists for an ID hash in use). It
// also forgets the sessions that have expired, so the table stays small.
func (s StaffStore) CreateStaffSession(ctx context.Context, ss store.StaffSession) error {
	if len(ss.IDHash) == 0 || ss.Login == "" {
		return errors.New("a staff session needs an ID hash and a login")
	}
	created := store.OrNow(ss.CreatedAt)
	seen := created
	if !ss.SeenAt.IsZero() {
		seen = ss.SeenAt.UTC()
	}
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM staff_sessions WHERE expires_at <= $1`, Nanos(created)); err != nil {
			return fmt.Errorf("forgetting expired staff sessions: %w", err)
		}
		// Inserted from the account's row: none for an unknown login.
		n, err := q.Exec(ctx, `
			INSERT INTO staff_sessions (id_hash, login, csrf, address, pending, created_at, seen_at, expires_at)
			SELECT $1, login, $3, $4, $5, $6, $7, $8 FROM staff WHERE login = $2
			ON CONFLICT (id_hash) DO NOTHING`,
			ss.IDHash, ss.Login, ss.CSRF, ss.Address, ss.Pending, Nanos(created), Nanos(seen), Nanos(ss.ExpiresAt))
		if err != nil {
			return fmt.Errorf("creating a session for %s: %w", ss.Login, err)
		}
		if n == 1 {
			return nil
		}
		if _, err := s.account(ctx, q, ss.Login); err != nil {
			return err
		}
		return fmt.Errorf("a session with this ID: %w", store.ErrExists)
	}))
}

// account reads an account in q's transaction.
func (s StaffStore) account(ctx context.Context, q Querier, login string) (store.StaffAccount, error) {
	acc, err := scanStaff(q.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE login = $1`, login))
	return acc, one(err, "staff account "+login)
}

// enabledAccount reads an account that is not disabled: store.ErrNotFound
// for one that is (disabled since the statement before).
func (s StaffStore) enabledAccount(ctx context.Context, q Querier, login string) (store.StaffAccount, error) {
	acc, err := scanStaff(q.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE login = $1 AND NOT disabled`, login))
	return acc, one(err, "staff account "+login+" (disabled or gone)")
}

// touchEvery is how old a session's SeenAt or a token's LastUsedAt may be
// before a request records its own time: a staff member clicking through
// the console, or a script's burst of requests, then costs reads, not a
// write (a disk sync under SQLite) each.
const touchEvery = time.Minute

// StaffSession finds a session in force at now whose account is not
// disabled, and records now as its SeenAt when that is more than
// touchEvery old: store.ErrNotFound otherwise. The session returned has
// the SeenAt of its use before this one.
func (s StaffStore) StaffSession(ctx context.Context, idHash []byte, now time.Time) (store.StaffSession, store.StaffAccount, error) {
	now = store.OrNow(now)
	ss, err := scanStaffSession(s.DB.QueryRow(ctx, `SELECT `+sessionColumns+` FROM staff_sessions WHERE id_hash = $1 AND expires_at > $2`,
		idHash, Nanos(now)))
	if err != nil {
		return store.StaffSession{}, store.StaffAccount{}, s.clean(one(err, "staff session (unknown or expired)"))
	}
	if now.Sub(ss.SeenAt) < touchEvery {
		acc, err := s.enabledAccount(ctx, s.DB, ss.Login)
		if err != nil {
			return store.StaffSession{}, store.StaffAccount{}, s.clean(err)
		}
		return ss, acc, nil
	}
	var acc store.StaffAccount
	prev := ss.SeenAt
	err = s.Write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		ss, err = scanStaffSession(q.QueryRow(ctx, `
			UPDATE staff_sessions SET seen_at = $2
			WHERE id_hash = $1 AND expires_at > $2
			  AND EXISTS (SELECT 1 FROM staff WHERE staff.login = staff_sessions.login AND NOT staff.disabled)
			RETURNING `+sessionColumns, idHash, Nanos(now)))
		if err != nil {
			return one(err, "staff session (unknown, expired, or its account disabled)")
		}
		acc, err = s.enabledAccount(ctx, q, ss.Login)
		return err
	})
	if err != nil {
		return store.StaffSession{}, store.StaffAccount{}, s.clean(err)
	}
	ss.SeenAt = prev // the use before this one: what an idle timeout asks
	return ss, acc, nil
}

// UpdateStaffSession stores a session's Pending, CSRF and ExpiresAt:
// store.ErrNotFound for a session that is no more.
func (s StaffStore) UpdateStaffSession(ctx context.Context, ss store.StaffSession) error {
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		n, err := q.Exec(ctx, `UPDATE staff_sessions SET pending = $2, csrf = $3, expires_at = $4 WHERE id_hash = $1`,
			ss.IDHash, ss.Pending, ss.CSRF, Nanos(ss.ExpiresAt))
		switch {
		case err != nil:
			return fmt.Errorf("updating a staff session: %w", err)
		case n == 0:
			return fmt.Errorf("staff session: %w", store.ErrNotFound)
		}
		return nil
	}))
}

// EndStaffSession deletes one session (idempotent).
func (s StaffStore) EndStaffSession(ctx context.Context, idHash []byte) error {
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM staff_sessions WHERE id_hash = $1`, idHash); err != nil {
			return fmt.Errorf("ending a staff session: %w", err)
		}
		return nil
	}))
}

const tokenColumns = `id, login, name, role, hash, created_at, coalesce(last_used_at, 0), coalesce(revoked_at, 0)`

func scanToken(r Row) (store.APIToken, error) {
	var (
		t                      store.APIToken
		created, used, revoked int64
	)
	err := r.Scan(&t.ID, &t.Login, &t.Name, &t.Role, &t.Hash, &created, &used, &revoked)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = Time(created), Time(used), Time(revoked)
	return t, err
}

// CreateToken records a token for an existing login (store.ErrNotFound
// otherwise) and returns its ID, with an audit event "token.add". A name
// the login has for a token in force is store.ErrExists; a revoked token's
// name may be used again.
func (s StaffStore) CreateToken(ctx context.Context, t store.APIToken, a store.Actor) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	if err := a.Check(); err != nil {
		return 0, err
	}
	var id int64
	err := s.Write(ctx, func(ctx context.Context, q Querier) error {
		if _, err := s.account(ctx, q, t.Login); err != nil {
			return err
		}
		created := store.OrNow(t.CreatedAt)
		// ON CONFLICT without a target: the name among the login's tokens
		// in force, or the hash.
		err := q.QueryRow(ctx, `
			INSERT INTO api_tokens (login, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING RETURNING id`,
			t.Login, t.Name, t.Role, t.Hash, Nanos(created)).Scan(&id)
		if err := one(err, "token "+t.Name+" of "+t.Login); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token %s of %s: %w", t.Name, t.Login, store.ErrExists)
		} else if err != nil {
			return err
		}
		return InsertEvent(ctx, q, store.AuditEvent{At: created, Action: "token.add",
			Detail: fmt.Sprintf("token %d %q of %s, role %s", id, t.Name, t.Login, t.Role)}, a)
	})
	if err != nil {
		return 0, s.clean(err)
	}
	return id, nil
}

// TokenByHash finds a token in force whose account is not disabled, and
// records now as its last use when that is more than touchEvery old:
// store.ErrNotFound otherwise.
func (s StaffStore) TokenByHash(ctx context.Context, hash []byte, now time.Time) (store.APIToken, store.StaffAccount, error) {
	now = store.OrNow(now)
	t, err := scanToken(s.DB.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL`, hash))
	if err != nil {
		return store.APIToken{}, store.StaffAccount{}, s.clean(one(err, "token (unknown or revoked)"))
	}
	if !t.LastUsedAt.IsZero() && now.Sub(t.LastUsedAt) < touchEvery {
		acc, err := s.enabledAccount(ctx, s.DB, t.Login)
		if err != nil {
			return store.APIToken{}, store.StaffAccount{}, s.clean(err)
		}
		return t, acc, nil
	}
	var acc store.StaffAccount
	err = s.Write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		t, err = scanToken(q.QueryRow(ctx, `
			UPDATE api_tokens SET last_used_at = $2
			WHERE hash = $1 AND revoked_at IS NULL
			  AND EXISTS (SELECT 1 FROM staff WHERE staff.login = api_tokens.login AND NOT staff.disabled)
			RETURNING `+tokenColumns, hash, Nanos(now)))
		if err != nil {
			return one(err, "token (unknown, revoked, or its account disabled)")
		}
		acc, err = s.enabledAccount(ctx, q, t.Login)
		return err
	})
	if err != nil {
		return store.APIToken{}, store.StaffAccount{}, s.clean(err)
	}
	return t, acc, nil
}

// Tokens lists the tokens of a login ("": every login's), by ID.
func (s StaffStore) Tokens(ctx context.Context, login string) ([]store.APIToken, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE $1 = '' OR login = $1 ORDER BY id`, login)
	all, err := collect(rows, err, "listing tokens", scanToken)
	return all, s.clean(err)
}

// RevokeToken revokes a token (idempotent: a revoked one stays as it was,
// and no event is recorded again), with an audit event "token.revoke";
// store.ErrNotFound when there is none.
func (s StaffStore) RevokeToken(ctx context.Context, id int64, a store.Actor) error {
	if err := a.Check(); err != nil {
		return err
	}
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		at := store.OrNow(a.At)
		t, err := scanToken(q.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL
			RETURNING `+tokenColumns, id, Nanos(at)))
		if err := one(err, "token "+strconv.FormatInt(id, 10)); errors.Is(err, store.ErrNotFound) {
			var found bool
			if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = $1)`, id).Scan(&found); err != nil {
				return fmt.Errorf("looking up token %d: %w", id, err)
			}
			if found {
				return nil // revoked already
			}
			return err
		} else if err != nil {
			return err
		}
		return InsertEvent(ctx, q, store.AuditEvent{At: at, Action: "token.revoke",
			Detail: fmt.Sprintf("token %d %q of %s", t.ID, t.Name, t.Login)}, a)
	}))
}
