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
// violation.
func (s *Store) Audit(ctx context.Context) ([]store.Violation, error) {
	var out []store.Violation
	err := s.read(ctx, func(tx pgx.Tx) error {
		all, err := allEntitlements(ctx, tx)
		if err != nil {
			return err
		}
		out, err = storesql.Audit(ctx, shared{tx}, all, true)
		return err
	})
	if err != nil {
		return nil, scrub(fmt.Errorf("auditing: %w", err), s.secret)
	}
	return out, nil
}
