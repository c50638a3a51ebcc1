package storesql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/aktual/aktual/server/store"
)

// activationKey is what an idempotency key of a staff activation recorded.
type activationKey struct {
	requestHash   string
	entitlementID int64
	added         int64
	created       bool
	sealed        []byte
	at            time.Time
}

// claimActivationKey records key for the activation this transaction is
// about to make, or, when the key was used, returns what it recorded
// (found). Of two transactions claiming one key at once, the second's
// insert waits for the first to end (PostgreSQL; SQLite runs them one
// after the other) and then finds its key, or claims it if the first
// rolled back.
func claimActivationKey(ctx context.Context, q Querier, key, requestHash string, at time.Time) (prior activationKey, found bool, err error) {
	n, err := q.Exec(ctx, `INSERT INTO activation_keys (key, request_hash, at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		key, requestHash, Nanos(at))
	if err != nil {
		return prior, false, fmt.Errorf("recording idempotency key %s: %w", key, err)
	}
	if n == 1 {
		return prior, false, nil
	}
	var (
		entitlementID sql.NullInt64
		atNanos       int64
	)
	err = q.QueryRow(ctx, `SELECT request_hash, entitlement_id, added, created, sealed, at FROM activation_keys WHERE key = $1`, key).Scan(
		&prior.requestHash, &entitlementID, &prior.added, &prior.created, &prior.sealed, &atNanos)
	if err != nil {
		return prior, false, fmt.Errorf("reading idempotency key %s: %w", key, err)
	}
	if !entitlementID.Valid {
		// Claimed and committed without its outcome: cannot happen, as
		// both are written in one transaction.
		return prior, false, fmt.Errorf("idempotency key %s has no activation recorded", key)
	}
	prior.entitlementID, prior.at = entitlementID.Int64, Time(atNanos)
	if len(prior.sealed) == 0 {
		prior.sealed = nil
	}
	return prior, true, nil
}

// finishActivationKey records what the activation that claimed key made.
func finishActivationKey(ctx context.Context, q Querier, key string, k activationKey) error {
	var sealed any // NULL when none is kept
	if len(k.sealed) != 0 {
		sealed = k.sealed
	}
	_, err := q.Exec(ctx, `UPDATE activation_keys SET entitlement_id = $2, added = $3, created = $4, sealed = $5 WHERE key = $1`,
		key, k.entitlementID, k.added, k.created, sealed)
	if err != nil {
		return fmt.Errorf("recording the activation of idempotency key %s: %w", key, err)
	}
	return nil
}

// StaffActivation is what a store gives ActivateStaff for the parts of an
// activation that are its own SQL.
type StaffActivation struct {
	// Activate makes the activation of p, with the actor and reason on
	// its ledger row, in the transaction, and returns the entitlement as
	// it ends and whether it is new.
	Activate func(p store.ActivateParams, actor, reason string) (store.Entitlement, bool, error)
	// Entitlement reads an entitlement by ID in the transaction.
	Entitlement func(id int64) (store.Entitlement, error)
}

// ActivateStaff is store.Staff.ActivateStaff in q's transaction, p
// validated and now its time: it claims the idempotency key (or answers
// with what the key's first activation made), records or checks the
// customer, has the store activate, and records the audit event
// "activate" and the key's outcome, all in the one transaction.
func ActivateStaff(ctx context.Context, q Querier, p store.ActivateStaffParams, now time.Time, st StaffActivation) (store.ActivateOutcome, error) {
	if p.IdempotencyKey != "" {
		prior, found, err := claimActivationKey(ctx, q, p.IdempotencyKey, p.RequestHash, now)
		switch {
		case err != nil:
			return store.ActivateOutcome{}, err
		case found && prior.requestHash != p.RequestHash:
			return store.ActivateOutcome{}, fmt.Errorf("idempotency key %s was first used for another activation: %w",
				p.IdempotencyKey, store.ErrIdempotencyMismatch)
		case found:
			e, err := st.Entitlement(prior.entitlementID)
			if err != nil {
				return store.ActivateOutcome{}, err
			}
			return store.ActivateOutcome{Entitlement: e, Created: prior.created, Replayed: true,
				Added: prior.added, Sealed: prior.sealed, At: prior.at}, nil
		}
	}
	cust, isNew, err := EnsureCustomer(ctx, q, store.Customer{Name: p.Customer, VAT: p.VAT, Distributor: p.Distributor, CreatedAt: now})
	if err != nil {
		return store.ActivateOutcome{}, err
	}
	if !isNew {
		if err := p.CheckDistributor(cust); err != nil {
			return store.ActivateOutcome{}, err
		}
	}
	who := p.Who()
	ap := p.ActivateParams
	ap.Now = now
	e, created, err := st.Activate(ap, who.Name, who.Reason)
	if err != nil {
		return store.ActivateOutcome{}, err
	}
	ev := store.AuditEvent{At: now, Action: "activate", Customer: p.Customer, EntitlementID: e.ID,
		Detail: store.ActivationDetail(e, p.Updates, created)}
	if err := InsertEvent(ctx, q, ev, who); err != nil {
		return store.ActivateOutcome{}, err
	}
	out := store.ActivateOutcome{Entitlement: e, Created: created, Added: p.Updates, At: now}
	if p.IdempotencyKey != "" {
		k := activationKey{entitlementID: e.ID, added: p.Updates, created: created}
		if created && len(p.Sealed) != 0 {
			k.sealed, out.Sealed = p.Sealed, p.Sealed
		}
		if err := finishActivationKey(ctx, q, p.IdempotencyKey, k); err != nil {
			return store.ActivateOutcome{}, err
		}
	}
	return out, nil
}

// ChangeEvent records the audit event of a staff change to entitlement e
// (suspend, reinstate, replace, reissue, correct) in q's transaction.
func ChangeEvent(ctx context.Context, q Querier, e store.Entitlement, action, detail string, a store.Actor, at time.Time) error {
	return InsertEvent(ctx, q, store.AuditEvent{At: at, Action: action, Customer: e.Customer, EntitlementID: e.ID, Detail: detail}, a)
}

// CheckCredentialFree refuses a credential some entitlement has
// (store.ErrConflict), in q's transaction, before a replacement takes it.
func CheckCredentialFree(ctx context.Context, q Querier, c store.Credential) error {
	var found bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM entitlements WHERE code_hash = $1 OR hwkey_serial = $2)`,
		nullBytes(c.CodeHash), nullText(c.HWKeySerial)).Scan(&found)
	switch {
	case err != nil:
		return fmt.Errorf("looking up the new credential: %w", err)
	case found:
		return fmt.Errorf("the new credential is already in use: %w", store.ErrConflict)
	}
	return nil
}

// LockSessionsOf locks the open or confirmed classic sessions of a
// hardware key that was replaced: a session opened with the old key must
// not yield an update.
func LockSessionsOf(ctx context.Context, q Querier, serial string) error {
	if _, err := q.Exec(ctx, `UPDATE classic_sessions SET state = 'locked' WHERE serial = $1 AND state IN ('open', 'confirmed')`, serial); err != nil {
		return fmt.Errorf("locking the sessions of hardware key %s: %w", serial, err)
	}
	return nil
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
