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
	var out []store.Violation
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = storesql.Audit(ctx, shared{tx}, entitlementColumns,
			func(r storesql.Row) (store.Entitlement, error) { return scanEntitlement(r) }, true)
		return err
	})
	if err != nil {
		return nil, scrub(fmt.Errorf("auditing: %w", err), s.secret)
	}
	return out, nil
}
