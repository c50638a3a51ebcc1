package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// PutPatch records a patch between two published releases of its product
// and platform; the same two releases again take the new patch.
func (s *Store) PutPatch(ctx context.Context, p store.Patch) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("recording patch: %w", err)
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		return storesql.PutPatch(ctx, shared{tx}, p)
	})
}

// Patch finds the patch between two releases.
func (s *Store) Patch(ctx context.Context, product, os, arch, fromSHA256, toSHA256 string) (store.Patch, error) {
	p, err := storesql.Patch(ctx, shared{s.pool}, product, os, arch, fromSHA256, toSHA256)
	return p, scrub(err, s.secret)
}

// Patches lists a product's patches for a platform (any order).
func (s *Store) Patches(ctx context.Context, product, os, arch string) ([]store.Patch, error) {
	ps, err := storesql.Patches(ctx, shared{s.pool}, product, os, arch)
	return ps, scrub(err, s.secret)
}
