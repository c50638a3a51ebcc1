package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// Audit checks every entitlement (see store.CheckEntitlement) over one
// snapshot, so a reservation made during the audit cannot look like a
// violation. It streams (storesql.Audit): memory stays flat however many
// entitlements and ledger rows there are.
func (s *Store) Audit(ctx context.Context) ([]store.Violation, error) {
	_, v, err := s.AuditCounted(ctx)
	return v, err
}

// AuditCounted is Audit, and how many entitlements it checked.
func (s *Store) AuditCounted(ctx context.Context) (int, []store.Violation, error) {
	var (
		out     []store.Violation
		checked int
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		// A backup made before schema version 6 has no ledger actors.
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		var err error
		checked, out, err = storesql.Audit(ctx, shared{tx}, entitlementColumns,
			func(r storesql.Row) (store.Entitlement, error) { return scanEntitlement(r) }, v >= 6)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("auditing: %w", err)
	}
	return checked, out, nil
}
