package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// The parts of store.Staff that touch entitlements; the rest is the shared
// SQL of storesql.StaffStore, which Store embeds. Each change locks its
// entitlement row before it reads it, as a reservation does, so a change
// and a reservation of one entitlement take turns across replicas.

// ActivateStaff is Activate made by staff (see store.ActivateStaffParams
// and storesql.ActivateStaff), in one transaction.
func (s *Store) ActivateStaff(ctx context.Context, p store.ActivateStaffParams) (store.ActivateOutcome, error) {
	if err := p.Validate(); err != nil {
		return store.ActivateOutcome{}, err
	}
	now := store.OrNow(p.Now)
	var out store.ActivateOutcome
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = storesql.ActivateStaff(ctx, shared{tx}, p, now, storesql.StaffActivation{
			Activate: func(ap store.ActivateParams, actor, reason string) (store.Entitlement, bool, error) {
				return activateIn(ctx, tx, ap, store.Actor{Name: actor, Reason: reason})
			},
			Entitlement: func(id int64) (store.Entitlement, error) { return entitlementWhere(ctx, tx, "id = $1", id) },
		})
		return err
	})
	if err != nil {
		return store.ActivateOutcome{}, scrub(fmt.Errorf("activating %s updates for %s: %w", p.Series, p.Customer, err), s.secret)
	}
	return out, nil
}

// CustomerEntitlements lists a customer's entitlements, by ID.
func (s *Store) CustomerEntitlements(ctx context.Context, customer string) ([]store.Entitlement, error) {
	all, err := entitlementsWhere(ctx, s.pool, "listing the entitlements of "+customer, "customer = $1", customer)
	return all, scrub(err, s.secret)
}

// EntitlementByID finds one: ErrNotFound when none.
func (s *Store) EntitlementByID(ctx context.Context, id int64) (store.Entitlement, error) {
	e, err := entitlementWhere(ctx, s.pool, "id = $1", id)
	if err != nil {
		return store.Entitlement{}, scrub(fmt.Errorf("entitlement %d: %w", id, err), s.secret)
	}
	return e, nil
}

// change runs fn on entitlement id, locked, in a write transaction, with
// the entitlement as it is, and returns the entitlement fn returns.
func (s *Store) change(ctx context.Context, id int64, doing string, fn func(tx pgx.Tx, e store.Entitlement) (store.Entitlement, error)) (store.Entitlement, error) {
	var out store.Entitlement
	err := s.write(ctx, func(tx pgx.Tx) error {
		e, err := entitlementWhere(ctx, tx, "id = $1"+forUpdate, id)
		if err != nil {
			return err
		}
		out, err = fn(tx, e)
		return err
	})
	if err != nil {
		return store.Entitlement{}, scrub(fmt.Errorf("%s entitlement %d: %w", doing, id, err), s.secret)
	}
	return out, nil
}

// SetActive suspends or reinstates an entitlement, with an audit event; the
// same state again changes and records nothing.
func (s *Store) SetActive(ctx context.Context, id int64, active bool, a store.Actor) (store.Entitlement, error) {
	if err := a.Check(); err != nil {
		return store.Entitlement{}, err
	}
	return s.change(ctx, id, store.SuspendAction(active)+"ing", func(tx pgx.Tx, e store.Entitlement) (store.Entitlement, error) {
		if e.Active == active {
			return e, nil
		}
		now := store.OrNow(a.At)
		at, ns := storedTime(now)
		after, err := scanEntitlement(tx.QueryRow(ctx, `UPDATE entitlements SET active = $2, updated_at = $3, updated_at_ns = $4
			WHERE id = $1 RETURNING `+entitlementColumns, e.ID, active, at, ns))
		if err != nil {
			return store.Entitlement{}, err
		}
		return after, storesql.ChangeEvent(ctx, shared{tx}, e, store.SuspendAction(active), store.CredentialName(e), a, now)
	})
}

// ReplaceCredential moves an entitlement to a new credential of its kind
// (see store.Staff); the old one stops working as the transaction commits.
func (s *Store) ReplaceCredential(ctx context.Context, id int64, c store.Credential, codeHint string, a store.Actor) (store.Entitlement, error) {
	if err := a.Check(); err != nil {
		return store.Entitlement{}, err
	}
	return s.change(ctx, id, "replacing the credential of", func(tx pgx.Tx, e store.Entitlement) (store.Entitlement, error) {
		action, err := store.CheckReplacement(e, c)
		if err != nil {
			return store.Entitlement{}, err
		}
		if err := storesql.CheckCredentialFree(ctx, shared{tx}, c); err != nil {
			return store.Entitlement{}, err
		}
		now := store.OrNow(a.At)
		at, ns := storedTime(now)
		var after store.Entitlement
		if e.Kind == store.KindHWKey {
			after, err = scanEntitlement(tx.QueryRow(ctx, `UPDATE entitlements SET hwkey_serial = $2, updated_at = $3, updated_at_ns = $4
				WHERE id = $1 RETURNING `+entitlementColumns, e.ID, c.HWKeySerial, at, ns))
			if err == nil {
				err = storesql.LockSessionsOf(ctx, shared{tx}, e.HWKeySerial)
			}
		} else {
			after, err = scanEntitlement(tx.QueryRow(ctx, `UPDATE entitlements SET code_hash = $2, code_hint = $3, updated_at = $4, updated_at_ns = $5
				WHERE id = $1 RETURNING `+entitlementColumns, e.ID, c.CodeHash, codeHint, at, ns))
		}
		if uniqueViolation(err) != "" {
			// A replica gave the credential to another entitlement since
			// it was looked up.
			return store.Entitlement{}, fmt.Errorf("the new credential is already in use: %w", store.ErrConflict)
		} else if err != nil {
			return store.Entitlement{}, err
		}
		detail := store.CredentialName(e) + " → " + store.CredentialName(after)
		return after, storesql.ChangeEvent(ctx, shared{tx}, after, action, detail, a, now)
	})
}

// Correct appends a correction of n units (purchased and remaining both by
// n) with its reason, and an audit event "correct".
func (s *Store) Correct(ctx context.Context, id int64, n int64, a store.Actor) (store.Entitlement, error) {
	if err := store.CheckCorrection(n, a); err != nil {
		return store.Entitlement{}, err
	}
	return s.change(ctx, id, "correcting", func(tx pgx.Tx, e store.Entitlement) (store.Entitlement, error) {
		now := store.OrNow(a.At)
		after, err := move(ctx, tx, e.ID, "", store.LedgerCorrection, store.Correction(n), now, a)
		if errors.Is(err, store.ErrWouldGoNegative) {
			return store.Entitlement{}, fmt.Errorf("%d remaining, a correction of %d: %w", e.Remaining, n, err)
		} else if err != nil {
			return store.Entitlement{}, err
		}
		return after, storesql.ChangeEvent(ctx, shared{tx}, after, "correct", store.CorrectionDetail(n, e, after), a, now)
	})
}
