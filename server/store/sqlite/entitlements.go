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

// Activate adds paid updates (see store.ActivateParams) and records the
// customer when new. A new entitlement is active; an existing one keeps its
// state (a suspension is lifted by SetActive alone, with its audit event).
func (s *Store) Activate(ctx context.Context, p store.ActivateParams) (store.Entitlement, bool, error) {
	if err := p.Validate(); err != nil {
		return store.Entitlement{}, false, err
	}
	p.Now = store.OrNow(p.Now)
	var (
		e       store.Entitlement
		created bool
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, _, err := storesql.EnsureCustomer(ctx, shared{tx}, store.Customer{Name: p.Customer, CreatedAt: p.Now}); err != nil {
			return err
		}
		var err error
		e, created, err = activateIn(ctx, tx, p, store.Actor{Name: p.ActorName(), Reason: p.Actor.Reason})
		return err
	})
	if err != nil {
		return store.Entitlement{}, false, fmt.Errorf("activating %s updates for %s: %w", p.Series, p.Customer, err)
	}
	return e, created, nil
}

// activateIn makes the activation p (its Now set) in tx, its ledger row by
// by, and returns the entitlement as it ends and whether it is new.
func activateIn(ctx context.Context, tx *sql.Tx, p store.ActivateParams, by store.Actor) (store.Entitlement, bool, error) {
	id, found, err := activationTarget(ctx, tx, p)
	if err != nil {
		return store.Entitlement{}, false, err
	}
	if !found {
		if id, err = insertEntitlement(ctx, tx, p, p.Now); err != nil {
			return store.Entitlement{}, false, err
		}
	}
	if _, err := move(ctx, tx, id, "", store.LedgerPurchase, store.Purchase(p.Updates), p.Now, by); err != nil {
		return store.Entitlement{}, false, err
	}
	// A suspended entitlement stays suspended: selling more updates is
	// not lifting a dispute or a stolen key's block (store.ActivateParams).
	e, err := entitlementWhere(ctx, tx, "id = ?", id)
	return e, !found, err
}

// activationTarget finds the entitlement an activation adds to: the
// customer's Pro entitlement, or the classic one of the key's serial.
func activationTarget(ctx context.Context, tx *sql.Tx, p store.ActivateParams) (id int64, found bool, err error) {
	if p.Series == api.SeriesPro {
		e, err := entitlementWhere(ctx, tx, "series = 'pro' AND customer = ?", p.Customer)
		if errors.Is(err, store.ErrNotFound) {
			return 0, false, nil
		}
		return e.ID, err == nil, err
	}
	serial, err := p.ClassicSerial()
	if err != nil {
		return 0, false, err
	}
	e, err := entitlementWhere(ctx, tx, "hwkey_serial = ?", serial)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	if err := p.CheckOwner(e); err != nil {
		return 0, false, err
	}
	return e.ID, true, nil
}

// insertEntitlement makes an empty entitlement; the purchase that follows
// in the same transaction gives it its units.
func insertEntitlement(ctx context.Context, tx *sql.Tx, p store.ActivateParams, now time.Time) (int64, error) {
	c := p.Credential
	var (
		kind   string
		hash   any // NULL unless set
		serial any
		hint   string
	)
	switch p.Series {
	case api.SeriesPro:
		code, err := p.NewProCode()
		if err != nil {
			return 0, err
		}
		kind, hash, hint = store.KindCode, code, p.CodeHint
	default:
		kind, serial = store.KindHWKey, c.HWKeySerial
	}
	at := formatTime(now)
	res, err := tx.ExecContext(ctx, `
		INSERT INTO entitlements (customer, series, kind, code_hash, code_hint, hwkey_serial, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Customer, p.Series, kind, hash, hint, serial, at, at)
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("the credential is already in use: %w", store.ErrConflict)
	} else if err != nil {
		return 0, fmt.Errorf("creating entitlement: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("creating entitlement: %w", err)
	}
	return id, nil
}

// Entitlement finds by credential: ErrUnknownCredential when none, and for
// a credential that does not set exactly one of its fields.
func (s *Store) Entitlement(ctx context.Context, c store.Credential) (store.Entitlement, error) {
	return entitlementByCredential(ctx, s.prepared(nil), c)
}

func entitlementByCredential(ctx context.Context, q querier, c store.Credential) (store.Entitlement, error) {
	if err := c.Validate(); err != nil {
		return store.Entitlement{}, err
	}
	var (
		e   store.Entitlement
		err error
	)
	if len(c.CodeHash) != 0 {
		e, err = entitlementWhere(ctx, q, "code_hash = ?", c.CodeHash)
	} else {
		e, err = entitlementWhere(ctx, q, "hwkey_serial = ?", c.HWKeySerial)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Entitlement{}, fmt.Errorf("looking up credential: %w", store.ErrUnknownCredential)
	}
	return e, err
}

// ProEntitlement finds a customer's Pro entitlement: ErrNotFound when none.
func (s *Store) ProEntitlement(ctx context.Context, customer string) (store.Entitlement, error) {
	e, err := entitlementWhere(ctx, s.db, "series = 'pro' AND customer = ?", customer)
	if err != nil {
		return store.Entitlement{}, fmt.Errorf("the Pro entitlement of %s: %w", customer, err)
	}
	return e, nil
}

// Entitlements lists all, by ID.
func (s *Store) Entitlements(ctx context.Context) ([]store.Entitlement, error) {
	return allEntitlements(ctx, s.db)
}

func allEntitlements(ctx context.Context, q querier) ([]store.Entitlement, error) {
	return entitlementsWhere(ctx, q, "listing entitlements", "1 = 1")
}

// entitlementsWhere lists the entitlements matching cond (a constant of
// this package, never input), by ID; what names the listing in errors.
func entitlementsWhere(ctx context.Context, q querier, what, cond string, args ...any) ([]store.Entitlement, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+entitlementColumns+` FROM entitlements WHERE `+cond+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Entitlement
	for rows.Next() {
		e, err := scanEntitlement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

const entitlementColumns = `id, customer, series, kind, code_hint, coalesce(hwkey_serial, ''), active,
	purchased, remaining, held, consumed, overdraft, created_at, updated_at`

// entitlementWhere finds the one entitlement matching cond: ErrNotFound
// when none. cond is always a constant of this package, never input.
func entitlementWhere(ctx context.Context, q querier, cond string, args ...any) (store.Entitlement, error) {
	e, err := scanEntitlement(q.QueryRowContext(ctx, `SELECT `+entitlementColumns+` FROM entitlements WHERE `+cond, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Entitlement{}, fmt.Errorf("entitlement: %w", store.ErrNotFound)
	}
	return e, err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanEntitlement(r scanner) (store.Entitlement, error) {
	var (
		e                store.Entitlement
		created, updated string
	)
	err := r.Scan(&e.ID, &e.Customer, &e.Series, &e.Kind, &e.CodeHint, &e.HWKeySerial, &e.Active,
		&e.Purchased, &e.Remaining, &e.Held, &e.Consumed, &e.Overdraft, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Entitlement{}, err
	} else if err != nil {
		return store.Entitlement{}, fmt.Errorf("reading entitlement: %w", err)
	}
	if e.CreatedAt, err = parseTime(created); err != nil {
		return store.Entitlement{}, fmt.Errorf("reading entitlement %d: %w", e.ID, err)
	}
	if e.UpdatedAt, err = parseTime(updated); err != nil {
		return store.Entitlement{}, fmt.Errorf("reading entitlement %d: %w", e.ID, err)
	}
	return e, nil
}
