package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	err := s.write(ctx, func(tx pgx.Tx) error {
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
//
// Two replicas activating a new customer at once both find no entitlement
// and both insert; the second insert waits for the first to commit and
// then does nothing (ON CONFLICT DO NOTHING). That is a lost race, not a
// conflict: the second looks again, finds the entitlement the first made
// and adds to it, as SQLite's serialised writers would. Only a credential
// that belongs to another customer is store.ErrConflict.
func activateIn(ctx context.Context, tx pgx.Tx, p store.ActivateParams, by store.Actor) (e store.Entitlement, created bool, err error) {
	id, found, err := activationTarget(ctx, tx, p)
	if err != nil {
		return e, false, err
	}
	if !found {
		if id, created, err = insertEntitlement(ctx, tx, p, p.Now); err != nil {
			return e, false, err
		}
	}
	if !found && !created {
		// Read committed: this statement sees what the insert ran into.
		if id, found, err = activationTarget(ctx, tx, p); err != nil {
			return e, false, err
		} else if !found {
			return e, false, fmt.Errorf("the credential is already in use: %w", store.ErrConflict)
		}
	}
	if e, err = move(ctx, tx, id, "", store.LedgerPurchase, store.Purchase(p.Updates), p.Now, by); err != nil {
		return e, false, err
	}
	// A suspended entitlement stays suspended: selling more updates is
	// not lifting a dispute or a stolen key's block (store.ActivateParams).
	return e, created, nil
}

// activationTarget finds and locks the entitlement an activation adds to:
// the customer's Pro entitlement, or the classic one of the key's serial.
func activationTarget(ctx context.Context, tx pgx.Tx, p store.ActivateParams) (id int64, found bool, err error) {
	if p.Series == api.SeriesPro {
		e, err := entitlementWhere(ctx, tx, "series = 'pro' AND customer = $1"+forUpdate, p.Customer)
		if errors.Is(err, store.ErrNotFound) {
			return 0, false, nil
		}
		return e.ID, err == nil, err
	}
	serial, err := p.ClassicSerial()
	if err != nil {
		return 0, false, err
	}
	e, err := entitlementWhere(ctx, tx, "hwkey_serial = $1"+forUpdate, serial)
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

// forUpdate locks the rows a lookup finds until the transaction ends.
// NO KEY UPDATE, not UPDATE: the transaction changes counts, never the key,
// so inserts elsewhere that refer to the row (their foreign-key check takes
// KEY SHARE) need not wait for it.
const forUpdate = " FOR NO KEY UPDATE"

// insertEntitlement makes an empty entitlement; the purchase that follows
// in the same transaction gives it its units. inserted is false when a
// committed entitlement already has the credential or, for the Pro series,
// the customer: the caller looks again.
func insertEntitlement(ctx context.Context, tx pgx.Tx, p store.ActivateParams, now time.Time) (id int64, inserted bool, err error) {
	c := p.Credential
	var (
		kind   string
		hash   []byte  // NULL unless set
		serial *string // NULL unless set
		hint   string
	)
	switch p.Series {
	case api.SeriesPro:
		code, err := p.NewProCode()
		if err != nil {
			return 0, false, err
		}
		kind, hash, hint = store.KindCode, code, p.CodeHint
	default:
		kind, serial = store.KindHWKey, &c.HWKeySerial
	}
	at, atNS := storedTime(now)
	// ON CONFLICT without a target covers every unique index, the partial
	// one-Pro-per-customer index included; it waits for a concurrent insert
	// of the same key to commit or roll back before it decides.
	err = tx.QueryRow(ctx, `
		INSERT INTO entitlements (customer, series, kind, code_hash, code_hint, hwkey_serial,
		    created_at, created_at_ns, updated_at, updated_at_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8)
		ON CONFLICT DO NOTHING
		RETURNING id`,
		p.Customer, p.Series, kind, hash, hint, serial, at, atNS).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("creating entitlement: %w", err)
	}
	return id, true, nil
}

// Entitlement finds by credential: ErrUnknownCredential when none, and for
// a credential that does not set exactly one of its fields.
func (s *Store) Entitlement(ctx context.Context, c store.Credential) (store.Entitlement, error) {
	e, err := entitlementByCredential(ctx, s.pool, c, "")
	return e, scrub(err, s.secret)
}

// entitlementByCredential looks the credential up; lock is "" or forUpdate.
func entitlementByCredential(ctx context.Context, q querier, c store.Credential, lock string) (store.Entitlement, error) {
	cond, arg, err := credentialCond(c)
	if err != nil {
		return store.Entitlement{}, err
	}
	e, err := entitlementWhere(ctx, q, cond+lock, arg)
	return e, unknownCredential(err)
}

// queueEntitlementByCredential queues on b the lookup of the credential (see
// entitlementByCredential): it sets *e, or *lookupErr to why there is none.
func queueEntitlementByCredential(b *pgx.Batch, c store.Credential, lock string, e *store.Entitlement, lookupErr *error) {
	cond, arg, err := credentialCond(c)
	if err != nil {
		*lookupErr = err
		return
	}
	queueEntitlementWhere(b, e, lookupErr, cond+lock, arg)
}

// credentialCond is the condition and argument that find c's entitlement;
// a credential that does not set exactly one of its fields names none.
func credentialCond(c store.Credential) (cond string, arg any, err error) {
	if err := c.Validate(); err != nil {
		return "", nil, err
	}
	if len(c.CodeHash) != 0 {
		return "code_hash = $1", c.CodeHash, nil
	}
	return "hwkey_serial = $1", c.HWKeySerial, nil
}

// unknownCredential is what a lookup by credential that found nothing
// says: store.ErrUnknownCredential.
func unknownCredential(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("looking up credential: %w", store.ErrUnknownCredential)
	}
	return err
}

// ProEntitlement finds a customer's Pro entitlement: ErrNotFound when none.
func (s *Store) ProEntitlement(ctx context.Context, customer string) (store.Entitlement, error) {
	e, err := entitlementWhere(ctx, s.pool, "series = 'pro' AND customer = $1", customer)
	if err != nil {
		return store.Entitlement{}, scrub(fmt.Errorf("the Pro entitlement of %s: %w", customer, err), s.secret)
	}
	return e, nil
}

// Entitlements lists all, by ID.
func (s *Store) Entitlements(ctx context.Context) ([]store.Entitlement, error) {
	all, err := allEntitlements(ctx, s.pool)
	return all, scrub(err, s.secret)
}

func allEntitlements(ctx context.Context, q querier) ([]store.Entitlement, error) {
	return entitlementsWhere(ctx, q, "listing entitlements", "true")
}

// entitlementsWhere lists the entitlements matching cond (a constant of
// this package, never input), by ID; what names the listing in errors.
func entitlementsWhere(ctx context.Context, q querier, what, cond string, args ...any) ([]store.Entitlement, error) {
	rows, err := q.Query(ctx, `SELECT `+entitlementColumns+` FROM entitlements WHERE `+cond+` ORDER BY id`, args...)
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
	purchased, remaining, held, consumed, overdraft, created_at, created_at_ns, updated_at, updated_at_ns`

// entitlementWhere finds the one entitlement matching cond: ErrNotFound
// when none. cond is always a constant of this package, never input.
func entitlementWhere(ctx context.Context, q querier, cond string, args ...any) (store.Entitlement, error) {
	e, err := scanEntitlement(q.QueryRow(ctx, `SELECT `+entitlementColumns+` FROM entitlements WHERE `+cond, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Entitlement{}, fmt.Errorf("entitlement: %w", store.ErrNotFound)
	}
	return e, err
}

// queueEntitlementWhere queues entitlementWhere on b: it sets *e, or
// *notFound when no entitlement matches (an answer, not a failure of the
// batch).
func queueEntitlementWhere(b *pgx.Batch, e *store.Entitlement, notFound *error, cond string, args ...any) {
	b.Queue(`SELECT `+entitlementColumns+` FROM entitlements WHERE `+cond, args...).QueryRow(func(row pgx.Row) error {
		var err error
		*e, err = scanEntitlement(row)
		if errors.Is(err, pgx.ErrNoRows) {
			*notFound = fmt.Errorf("entitlement: %w", store.ErrNotFound)
			return nil
		}
		return err
	})
}

func scanEntitlement(r pgx.Row) (store.Entitlement, error) {
	var x entitlementRow
	err := r.Scan(x.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Entitlement{}, err
	} else if err != nil {
		return store.Entitlement{}, fmt.Errorf("reading entitlement: %w", err)
	}
	return x.value(), nil
}

// entitlementRow receives a row of entitlementColumns, alone or beside
// other columns.
type entitlementRow struct {
	e                    store.Entitlement
	created, updated     time.Time
	createdNS, updatedNS int16
}

func (x *entitlementRow) dest() []any {
	e := &x.e
	return []any{&e.ID, &e.Customer, &e.Series, &e.Kind, &e.CodeHint, &e.HWKeySerial, &e.Active,
		&e.Purchased, &e.Remaining, &e.Held, &e.Consumed, &e.Overdraft, &x.created, &x.createdNS, &x.updated, &x.updatedNS}
}

func (x *entitlementRow) value() store.Entitlement {
	e := x.e
	e.CreatedAt, e.UpdatedAt = loadedTime(x.created, x.createdNS), loadedTime(x.updated, x.updatedNS)
	return e
}
