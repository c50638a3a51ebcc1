package storesql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/aktual/aktual/server/store"
)

// PutPatch records a patch between two published releases of its product
// and platform; the same two releases again take the new patch. Run it in
// a write transaction.
func PutPatch(ctx context.Context, q Querier, p store.Patch) error {
	var n int
	err := q.QueryRow(ctx, `SELECT count(DISTINCT sha256) FROM releases
		WHERE product = $1 AND os = $2 AND arch = $3 AND sha256 IN ($4, $5)`,
		p.Product, p.OS, p.Arch, p.FromSHA256, p.ToSHA256).Scan(&n)
	if err != nil {
		return fmt.Errorf("recording patch: looking up its releases: %w", err)
	}
	if n != 2 {
		return p.MissingRelease()
	}
	_, err = q.Exec(ctx, `
		INSERT INTO patches (product, os, arch, from_sha256, to_sha256, patch_sha256, patch_size)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (product, os, arch, from_sha256, to_sha256)
		DO UPDATE SET patch_sha256 = excluded.patch_sha256, patch_size = excluded.patch_size`,
		p.Product, p.OS, p.Arch, p.FromSHA256, p.ToSHA256, p.SHA256, p.Size)
	if err != nil {
		return fmt.Errorf("recording patch: %w", err)
	}
	return nil
}

// Patch finds the patch between two releases: store.ErrNotFound when none.
func Patch(ctx context.Context, q Querier, product, os, arch, fromSHA256, toSHA256 string) (store.Patch, error) {
	p, err := scanPatch(q.QueryRow(ctx, `SELECT `+patchColumns+` FROM patches
		WHERE product = $1 AND os = $2 AND arch = $3 AND from_sha256 = $4 AND to_sha256 = $5`,
		product, os, arch, fromSHA256, toSHA256))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Patch{}, fmt.Errorf("patch of %s for %s/%s from %.12s… to %.12s…: %w", product, os, arch, fromSHA256, toSHA256, store.ErrNotFound)
	}
	return p, err
}

// Patches lists a product's patches for a platform (any order).
func Patches(ctx context.Context, q Querier, product, os, arch string) ([]store.Patch, error) {
	rows, err := q.Query(ctx, `SELECT `+patchColumns+` FROM patches WHERE product = $1 AND os = $2 AND arch = $3`,
		product, os, arch)
	if err != nil {
		return nil, fmt.Errorf("listing patches of %s for %s/%s: %w", product, os, arch, err)
	}
	defer rows.Close()
	var out []store.Patch
	for rows.Next() {
		p, err := scanPatch(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

const patchColumns = `product, os, arch, from_sha256, to_sha256, patch_sha256, patch_size`

func scanPatch(sc Row) (store.Patch, error) {
	var p store.Patch
	err := sc.Scan(&p.Product, &p.OS, &p.Arch, &p.FromSHA256, &p.ToSHA256, &p.SHA256, &p.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Patch{}, err
	} else if err != nil {
		return store.Patch{}, fmt.Errorf("reading patch: %w", err)
	}
	return p, nil
}
