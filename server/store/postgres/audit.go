package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	err := s.read(ctx, func(tx pgx.Tx) error {
		// Room to sum the ledger per entitlement in memory: with the
		// default 4 MB, 1.2 million groups spill to disk and the audit of
		// 20 million rows takes half as long again (issue 21). For this
		// transaction only.
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
			return fmt.Errorf("setting work_mem: %w", err)
		}
		var err error
		checked, out, err = storesql.Audit(ctx, shared{tx}, entitlementColumns,
			func(r storesql.Row) (store.Entitlement, error) { return scanEntitlement(r) }, true)
		return err
	})
	if err != nil {
		return 0, nil, scrub(fmt.Errorf("auditing: %w", err), s.secret)
	}
	return checked, out, nil
}
