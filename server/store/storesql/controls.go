package storesql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Release control (schema version 7) is new to both stores, so its SQL is
// written once, here, on StaffStore: the shared-SQL half every store
// embeds.

const controlColumns = `product, version, channels, percent, critical, state, requires,
	brake_after, brake_rate, notes, reason, changed_by, changed_at`

func scanControl(row Row) (store.ReleaseControl, error) {
	var c store.ReleaseControl
	var channels string
	var changed int64
	err := row.Scan(&c.Product, &c.Version, &channels, &c.Percent, &c.Critical, &c.State, &c.Requires,
		&c.BrakeAfter, &c.BrakeRate, &c.Notes, &c.Reason, &c.ChangedBy, &changed)
	c.Channels, c.ChangedAt = strings.Split(channels, ","), Time(changed)
	if len(c.Notes) == 0 {
		c.Notes = nil
	}
	return c, err
}

// ReleaseControls lists the controls stored for a product's versions.
func (s StaffStore) ReleaseControls(ctx context.Context, product string) ([]store.ReleaseControl, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+controlColumns+` FROM release_controls WHERE product = $1`, product)
	all, err := collect(rows, err, "listing the release controls of "+product, scanControl)
	return all, s.clean(err)
}

// ChangeReleaseControl reads a version's control (the default when none
// is stored), locked, changes it and stores it with an audit event, in
// one transaction (see store.Controls).
func (s StaffStore) ChangeReleaseControl(ctx context.Context, product, version, action string, a store.Actor,
	change func(*store.ReleaseControl) error) (store.ReleaseControl, error) {
	if err := a.Check(); err != nil {
		return store.ReleaseControl{}, err
	}
	if action == "" {
		return store.ReleaseControl{}, errors.New("changing a release control: no audit action given")
	}
	if !api.ValidName(product) || !api.ValidVersion(version) {
		return store.ReleaseControl{}, fmt.Errorf("%w: release %q %q is not a product name and version", store.ErrControl, product, version)
	}
	version = api.CanonicalVersion(version)
	var c store.ReleaseControl
	err := s.Write(ctx, func(ctx context.Context, q Querier) error {
		at := store.OrNow(a.At)
		// The default row first, then a no-op update that locks it, so
		// that what is read next is what this transaction changes.
		if _, err := q.Exec(ctx, `INSERT INTO release_controls (product, version, changed_at) VALUES ($1, $2, $3)
			ON CONFLICT (product, version) DO NOTHING`, product, version, Nanos(at)); err != nil {
			return fmt.Errorf("changing the release control of %s %s: %w", product, version, err)
		}
		if _, err := q.Exec(ctx, `UPDATE release_controls SET changed_at = changed_at WHERE product = $1 AND version = $2`,
			product, version); err != nil {
			return fmt.Errorf("changing the release control of %s %s: %w", product, version, err)
		}
		old, err := scanControl(q.QueryRow(ctx, `SELECT `+controlColumns+` FROM release_controls WHERE product = $1 AND version = $2`,
			product, version))
		if err != nil {
			return one(err, "release control of "+product+" "+version)
		}
		c = old
		if err := change(&c); err != nil {
			return err
		}
		c.Product, c.Version, c.ChangedBy, c.ChangedAt = product, version, a.Name, at
		c.Reason = a.Reason
		if err := c.Validate(); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE release_controls SET channels = $3, percent = $4, critical = $5, state = $6,
			requires = $7, brake_after = $8, brake_rate = $9, notes = $10, reason = $11, changed_by = $12, changed_at = $13
			WHERE product = $1 AND version = $2`,
			product, version, strings.Join(c.Channels, ","), c.Percent, c.Critical, c.State, c.Requires,
			c.BrakeAfter, c.BrakeRate, nullBytes(c.Notes), c.Reason, c.ChangedBy, Nanos(at)); err != nil {
			return fmt.Errorf("changing the release control of %s %s: %w", product, version, err)
		}
		return InsertEvent(ctx, q, store.AuditEvent{At: at, Action: action, Detail: store.ControlDetail(old, c)}, a)
	})
	return c, s.clean(err)
}

// RecordPathStep records a reservation as the first step of a required
// path (store.Controls).
func (s StaffStore) RecordPathStep(ctx context.Context, reservationID, product, machine, pathTo string) error {
	if !api.ValidVersion(pathTo) {
		return fmt.Errorf("%w: a path ends at a version, not %q", store.ErrControl, pathTo)
	}
	err := s.Write(ctx, func(ctx context.Context, q Querier) error {
		n, err := q.Exec(ctx, `INSERT INTO path_steps (reservation_id, product, machine_id, path_to)
			SELECT id, $2, $3, $4 FROM reservations WHERE id = $1 AND product = $2 AND machine_id = $3
			ON CONFLICT (reservation_id) DO NOTHING`, reservationID, product, machine, api.CanonicalVersion(pathTo))
		if err != nil {
			return fmt.Errorf("recording the path of reservation %s: %w", reservationID, err)
		}
		if n == 0 {
			var found bool
			if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM path_steps WHERE reservation_id = $1 AND product = $2 AND machine_id = $3)`,
				reservationID, product, machine).Scan(&found); err != nil {
				return fmt.Errorf("recording the path of reservation %s: %w", reservationID, err)
			}
			if !found {
				return fmt.Errorf("reservation %s of %s by %s: %w", reservationID, product, machine, store.ErrNotFound)
			}
		}
		return nil
	})
	return s.clean(err)
}

// PaidPaths lists the ends of the required paths whose first step machine
// paid for (store.Controls).
func (s StaffStore) PaidPaths(ctx context.Context, product, machine string) ([]string, error) {
	rows, err := s.DB.Query(ctx, `SELECT DISTINCT p.path_to FROM path_steps p JOIN reservations r ON r.id = p.reservation_id
		WHERE p.machine_id = $1 AND p.product = $2 AND r.state = 'consumed'`, machine, product)
	out, err := collect(rows, err, "listing the paths a machine paid for", func(r Row) (string, error) {
		var v string
		return v, r.Scan(&v)
	})
	return out, s.clean(err)
}
