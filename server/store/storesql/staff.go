package storesql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aktual/aktual/server/store"
)

// The staff tables (schema version 6: customers, distributors, staff,
// their sessions and tokens, the throttle, the audit log and activation
// keys) are new to both stores, so their SQL is written once, here, and
// their times are kept alike in both: Unix nanoseconds, an INTEGER in
// SQLite and a bigint in PostgreSQL.

// StaffStore is the part of store.Staff whose SQL both stores share. A
// store embeds it, set up with its own database and transactions; what
// touches entitlements (activations and the changes staff make to them)
// each store implements itself, calling the functions of this package for
// the customers, the audit log and the activation keys.
type StaffStore struct {
	// DB runs reads, outside any transaction.
	DB Querier
	// Search, if set, runs the customer search instead of DB
	// (PostgreSQL's plans each search for its arguments).
	Search Querier
	// Postgres says the database is PostgreSQL: the search matches the
	// entitlements' customers as an array, which a bitmap scan of the
	// customers' primary key can OR with the trigram indexes.
	Postgres bool
	// Write runs fn in one write transaction of the store: fn's error
	// returned unchanged, or the one that kept the transaction from
	// committing. fn must use the context it is given (SQLite's group
	// commit gives it one of its own) and start from nothing each time it
	// is called (PostgreSQL runs it again after a deadlock).
	Write func(ctx context.Context, fn func(ctx context.Context, q Querier) error) error
	// Clean, if set, is applied to every error returned (PostgreSQL's
	// takes the password out).
	Clean func(error) error
}

func (s StaffStore) clean(err error) error {
	if err == nil || s.Clean == nil {
		return err
	}
	return s.Clean(err)
}

// Nanos is how the staff tables keep a time: Unix nanoseconds; 0 for the
// zero time.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Time is the UTC time Nanos kept; the zero time for 0.
func Time(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullText is s for a nullable reference: NULL for "", which a query
// reads back as "" with coalesce.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// one reports sql.ErrNoRows (pgx.ErrNoRows matches it) as what, wrapped
// around store.ErrNotFound.
func one(err error, what string) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// collect reads every row of rows with scan.
func collect[T any](rows Rows, err error, what string, scan func(Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Distributors lists the distributors' names, in byte order (the same in
// both databases, whatever PostgreSQL's collation).
func (s StaffStore) Distributors(ctx context.Context) ([]string, error) {
	rows, err := s.DB.Query(ctx, `SELECT name FROM distributors`)
	names, err := collect(rows, err, "listing distributors", func(r Row) (string, error) {
		var n string
		return n, r.Scan(&n)
	})
	slices.Sort(names)
	return names, s.clean(err)
}

// AddDistributor records a distributor (idempotent), with an audit event
// "distributor.add" when it is new.
func (s StaffStore) AddDistributor(ctx context.Context, name string, a store.Actor) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("a distributor needs a name")
	}
	if err := a.Check(); err != nil {
		return err
	}
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		at := store.OrNow(a.At)
		n, err := q.Exec(ctx, `INSERT INTO distributors (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
			name, Nanos(at))
		if err != nil || n == 0 {
			return one(err, "adding distributor "+name)
		}
		return InsertEvent(ctx, q, store.AuditEvent{At: at, Action: "distributor.add", Detail: name}, a)
	}))
}

// checkDistributor refuses a distributor that was never added
// (store.ErrNotFound); "" is none and always there.
func checkDistributor(ctx context.Context, q Querier, name string) error {
	if name == "" {
		return nil
	}
	var found bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM distributors WHERE name = $1)`, name).Scan(&found)
	switch {
	case err != nil:
		return fmt.Errorf("looking up distributor %s: %w", name, err)
	case !found:
		return fmt.Errorf("distributor %s: %w", name, store.ErrNotFound)
	}
	return nil
}

const staffColumns = `login, role, coalesce(distributor, ''), password_hash, totp_secret, disabled, created_at, updated_at`

func scanStaff(r Row) (store.StaffAccount, error) {
	var (
		acc              store.StaffAccount
		created, updated int64
	)
	err := r.Scan(&acc.Login, &acc.Role, &acc.Distributor, &acc.PasswordHash, &acc.TOTPSecret, &acc.Disabled, &created, &updated)
	acc.CreatedAt, acc.UpdatedAt = Time(created), Time(updated)
	return acc, err
}

// CreateStaff records a new account (store.ErrExists for a taken login),
// with an audit event "staff.add". A distributor account's distributor must
// have been added (store.ErrNotFound).
func (s StaffStore) CreateStaff(ctx context.Context, acc store.StaffAccount, a store.Actor) error {
	if err := acc.Validate(); err != nil {
		return err
	}
	if err := a.Check(); err != nil {
		return err
	}
	return s.clean(s.Write(ctx, func(ctx context.Context, q Querier) error {
		if err := checkDistributor(ctx, q, acc.Distributor); err != nil {
			return err
		}
		created := store.OrNow(acc.CreatedAt)
		updated := created
		if !acc.UpdatedAt.IsZero() {
			updated = acc.UpdatedAt.UTC()
		}
		n, err := q.Exec(ctx, `
			INSERT INTO staff (login, role, distributor, password_hash, totp_secret, disabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (login) DO NOTHING`,
			acc.Login, acc.Role, nullText(acc.Distributor), acc.PasswordHash, acc.TOTPSecret, acc.Disabled,
			Nanos(created), Nanos(updated))
		switch {
		case err != nil:
			return fmt.Errorf("creating staff account %s: %w", acc.Login, err)
		case n == 0:
			return fmt.Errorf("staff login %s: %w", acc.Login, store.ErrExists)
		}
		return InsertEvent(ctx, q, store.AuditEvent{At: created, Action: "staff.add", Detail: staffDetail(store.StaffAccount{}, acc)}, a)
	}))
}

// StaffAccount finds an account: store.ErrNotFound when none.
func (s StaffStore) StaffAccount(ctx context.Context, login string) (store.StaffAccount, error) {
	acc, err := scanStaff(s.DB.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE login = $1`, login))
	return acc, s.clean(one(err, "staff account "+login))
}

// StaffAccounts lists every account, by login (in byte order).
func (s StaffStore) StaffAccounts(ctx context.Context) ([]store.StaffAccount, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+staffColumns+` FROM staff`)
	all, err := collect(rows, err, "listing staff accounts", scanStaff)
	slices.SortFunc(all, func(a, b store.StaffAccount) int { return strings.Compare(a.Login, b.Login) })
	return all, s.clean(err)
}

// UpdateStaff stores an account's role, distributor, password hash, TOTP
// secret and disabled flag as given (see ChangeStaff).
func (s StaffStore) UpdateStaff(ctx context.Context, acc store.StaffAccount, action string, a store.Actor) error {
	_, err := s.ChangeStaff(ctx, acc.Login, action, a, func(cur *store.StaffAccount) error {
		created := cur.CreatedAt
		*cur = acc
		cur.CreatedAt = created
		return nil
	})
	return err
}

// ChangeStaff reads an account, locked, in one transaction with its
// change: change edits it (or refuses, and nothing changes), and it is
// stored with an audit event of action whose detail says what changed
// (never a hash or secret). Disabling, a new password or a new TOTP secret
// ends the account's sessions in the same transaction.
func (s StaffStore) ChangeStaff(ctx context.Context, login, action string, a store.Actor, change func(*store.StaffAccount) error) (store.StaffAccount, error) {
	if err := a.Check(); err != nil {
		return store.StaffAccount{}, err
	}
	if action == "" {
		return store.StaffAccount{}, errors.New("updating a staff account: no audit action given")
	}
	var acc store.StaffAccount
	err := s.Write(ctx, func(ctx context.Context, q Querier) error {
		// Locks the row first (a no-op update), so that what is read
		// next is what this transaction changes.
		n, err := q.Exec(ctx, `UPDATE staff SET updated_at = updated_at WHERE login = $1`, login)
		switch {
		case err != nil:
			return fmt.Errorf("updating staff account %s: %w", login, err)
		case n == 0:
			return fmt.Errorf("staff account %s: %w", login, store.ErrNotFound)
		}
		old, err := scanStaff(q.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE login = $1`, login))
		if err != nil {
			return one(err, "staff account "+login)
		}
		acc = old
		if err := change(&acc); err != nil {
			return err
		}
		acc.Login = login
		return s.storeChange(ctx, q, old, acc, action, a)
	})
	return acc, s.clean(err)
}

// storeChange writes acc over old in q's transaction (see ChangeStaff).
func (s StaffStore) storeChange(ctx context.Context, q Querier, old, acc store.StaffAccount, action string, a store.Actor) error {
	if err := acc.Validate(); err != nil {
		return err
	}
	if err := checkDistributor(ctx, q, acc.Distributor); err != nil {
		return err
	}
	at := store.OrNow(a.At)
	if !acc.UpdatedAt.IsZero() && acc.UpdatedAt.After(at) {
		at = acc.UpdatedAt
	}
	if _, err := q.Exec(ctx, `
		UPDATE staff SET role = $2, distributor = $3, password_hash = $4, totp_secret = $5, disabled = $6, updated_at = $7
		WHERE login = $1`,
		acc.Login, acc.Role, nullText(acc.Distributor), acc.PasswordHash, acc.TOTPSecret, acc.Disabled, Nanos(at)); err != nil {
		return fmt.Errorf("updating staff account %s: %w", acc.Login, err)
	}
	if acc.Disabled || acc.PasswordHash != old.PasswordHash || acc.TOTPSecret != old.TOTPSecret {
		if _, err := q.Exec(ctx, `DELETE FROM staff_sessions WHERE login = $1`, acc.Login); err != nil {
			return fmt.Errorf("ending the sessions of %s: %w", acc.Login, err)
		}
	}
	return InsertEvent(ctx, q, store.AuditEvent{At: at, Action: action, Detail: staffDetail(old, acc)}, a)
}

// staffDetail says what a change of an account (from old, the zero account
// for a new one) changed, for the audit log: never a hash or a secret.
func staffDetail(old, acc store.StaffAccount) string {
	var parts []string
	role := func(a store.StaffAccount) string {
		if a.Distributor != "" {
			return a.Role + " of " + a.Distributor
		}
		return a.Role
	}
	switch {
	case old.Login == "":
		parts = append(parts, "role "+role(acc))
	case role(old) != role(acc):
		parts = append(parts, "role "+role(old)+" → "+role(acc))
	}
	if old.Login != "" && old.PasswordHash != acc.PasswordHash {
		parts = append(parts, "new password")
	}
	switch {
	case old.TOTPSecret == "" && acc.TOTPSecret != "":
		parts = append(parts, "TOTP on")
	case old.TOTPSecret != "" && acc.TOTPSecret == "":
		parts = append(parts, "TOTP off")
	case old.TOTPSecret != acc.TOTPSecret:
		parts = append(parts, "new TOTP secret")
	}
	switch {
	case !old.Disabled && acc.Disabled:
		parts = append(parts, "disabled")
	case old.Login != "" && old.Disabled && !acc.Disabled:
		parts = append(parts, "enabled")
	}
	if len(parts) == 0 {
		return acc.Login + ": no change"
	}
	return acc.Login + ": " + strings.Join(parts, ", ")
}

// UseTOTPStep records step as login's last TOTP step unless that one or a
// later one was used: one statement, so two replicas given one code at
// once let one sign-in through.
func (s StaffStore) UseTOTPStep(ctx context.Context, login string, step int64) (bool, error) {
	var n int64
	err := s.Write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		n, err = q.Exec(ctx, `UPDATE staff SET totp_step = $2 WHERE login = $1 AND totp_step < $2`, login, step)
		return err
	})
	if err != nil {
		return false, s.clean(fmt.Errorf("recording the TOTP step of %s: %w", login, err))
	}
	return n == 1, nil
}
