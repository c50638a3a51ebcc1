package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// The parts of store.Staff that touch entitlements; the rest is the shared
// SQL of storesql.StaffStore, which Store embeds.

// ActivateStaff is Activate made by staff (see store.ActivateStaffParams
// and storesql.ActivateStaff), in one transaction.
func (s *Store) ActivateStaff(ctx context.Context, p store.ActivateStaffParams) (store.ActivateOutcome, error) {
	if err := p.Validate(); err != nil {
		return store.ActivateOutcome{}, err
	}
	now := store.OrNow(p.Now)
	var out store.ActivateOutcome
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = storesql.ActivateStaff(ctx, shared{tx}, p, now, storesql.StaffActivation{
			Activate: func(ap store.ActivateParams, actor, reason string) (store.Entitlement, bool, error) {
				return activateIn(ctx, tx, ap, store.Actor{Name: actor, Reason: reason})
			},
			Entitlement: func(id int64) (store.Entitlement, error) { return entitlementWhere(ctx, tx, "id = ?", id) },
		})
		return err
	})
	if err != nil {
		return store.ActivateOutcome{}, fmt.Errorf("activating %s updates for %s: %w", p.Series, p.Customer, err)
	}
	return out, nil
}

// CustomerEntitlements lists a customer's entitlements, by ID.
func (s *Store) CustomerEntitlements(ctx context.Context, customer string) ([]store.Entitlement, error) {
	return entitlementsWhere(ctx, s.db, "listing the entitlements of "+customer, "customer = ?", customer)
}

// EntitlementByID finds one: ErrNotFound when none.
func (s *Store) EntitlementByID(ctx context.Context, id int64) (store.Entitlement, error) {
	e, err := entitlementWhere(ctx, s.db, "id = ?", id)
	if err != nil {
		return store.Entitlement{}, fmt.Errorf("entitlement %d: %w", id, err)
	}
	return e, nil
}

// change runs fn on entitlement id in a write transaction, with the
// entitlement as it is, and returns the entitlement fn returns.
func (s *Store) change(ctx context.Context, id int64, doing string, fn func(ctx context.Context, tx *sql.Tx, e store.Entitlement) (store.Entitlement, error)) (store.Entitlement, error) {
	var out store.Entitlement
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		e, err := entitlementWhere(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		out, err = fn(ctx, tx, e)
		return err
	})
	if err != nil {
		return store.Entitlement{}, fmt.Errorf("%s entitlement %d: %w", doing, id, err)
	}
	return out, nil
}

// SetActive suspends or reinstates an entitlement, with an audit event; the
// same state again changes and records nothing.
func (s *Store) SetActive(ctx context.Context, id int64, active bool, a store.Actor) (store.Entitlement, error) {
	if err := a.Check(); err != nil {
		return store.Entitlement{}, err
	}
	return s.change(ctx, id, store.SuspendAction(active)+"ing", func(ctx context.Context, tx *sql.Tx, e store.Entitlement) (store.Entitlement, error) {
		if e.Active == active {
			return e, nil
		}
		now := store.OrNow(a.At)
		if _, err := tx.ExecContext(ctx, `UPDATE entitlements SET active = ?, updated_at = ? WHERE id = ?`, active, formatTime(now), e.ID); err != nil {
			return store.Entitlement{}, err
		}
		if err := storesql.ChangeEvent(ctx, shared{tx}, e, store.SuspendAction(active), store.CredentialName(e), a, now); err != nil {
			return store.Entitlement{}, err
		}
		return entitlementWhere(ctx, tx, "id = ?", e.ID)
	})
}

// ReplaceCredential moves an entitlement to a new credential of its kind
// (see store.Staff); the old one stops working as the transaction commits.
func (s *Store) ReplaceCredential(ctx context.Context, id int64, c store.Credential, codeHint string, a store.Actor) (store.Entitlement, error) {
	if err := a.Check(); err != nil {
		return store.Entitlement{}, err
	}
	return s.change(ctx, id, "replacing the credential of", func(ctx context.Context, tx *sql.Tx, e store.Entitlement) (store.Entitlement, error) {
		action, err := store.CheckReplacement(e, c)
		if err != nil {
			return store.Entitlement{}, err
		}
		if err := storesql.CheckCredentialFree(ctx, shared{tx}, c); err != nil {
			return store.Entitlement{}, err
		}
		now := store.OrNow(a.At)
		if e.Kind == store.KindHWKey {
			_, err = tx.ExecContext(ctx, `UPDATE entitlements SET hwkey_serial = ?, updated_at = ? WHERE id = ?`, c.HWKeySerial, formatTime(now), e.ID)
			if err == nil {
				err = storesql.LockSessionsOf(ctx, shared{tx}, e.HWKeySerial)
			}
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE entitlements SET code_hash = ?, code_hint = ?, updated_at = ? WHERE id = ?`, c.CodeHash, codeHint, formatTime(now), e.ID)
		}
		if isUniqueViolation(err) {
			return store.Entitlement{}, fmt.Errorf("the new credential is already in use: %w", store.ErrConflict)
		} else if err != nil {
			return store.Entitlement{}, err
		}
		after, err := entitlementWhere(ctx, tx, "id = ?", e.ID)
		if err != nil {
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
	return s.change(ctx, id, "correcting", func(ctx context.Context, tx *sql.Tx, e store.Entitlement) (store.Entitlement, error) {
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
