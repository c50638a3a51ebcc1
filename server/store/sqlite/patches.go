package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// PutPatch records a patch between two published releases of its product
// and platform; the same two releases again take the new patch.
func (s *Store) PutPatch(ctx context.Context, p store.Patch) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("recording patch: %w", err)
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return storesql.PutPatch(ctx, shared{tx}, p)
	})
}

// Patch finds the patch between two releases.
func (s *Store) Patch(ctx context.Context, product, os, arch, fromSHA256, toSHA256 string) (store.Patch, error) {
	return storesql.Patch(ctx, shared{s.db}, product, os, arch, fromSHA256, toSHA256)
}

// Patches lists a product's patches for a platform (any order).
func (s *Store) Patches(ctx context.Context, product, os, arch string) ([]store.Patch, error) {
	return storesql.Patches(ctx, shared{s.db}, product, os, arch)
}
