package storesql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/aktual/aktual/server/store"
)

// PublishedAgain handles a release whose (product, version, os, arch) is
// already stored with the artifact sum and size: the same artifact keeps
// its envelope and takes r's URL (the bytes moved to another origin); a
// different one is store.ErrConflict. Run it in the write transaction that
// read sum and size.
func PublishedAgain(ctx context.Context, q Querier, r store.Release, sum string, size int64) error {
	if err := r.CheckSameArtifact(sum, size); err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `UPDATE releases SET url = $1 WHERE product = $2 AND version = $3 AND os = $4 AND arch = $5 AND url <> $1`,
		r.URL, r.Product, r.Version, r.OS, r.Arch); err != nil {
		return fmt.Errorf("recording the artifact's origin: %w", err)
	}
	return nil
}

// ResignRelease replaces a release's envelope: store.ErrNotFound when there
// is no such release. Run it in a write transaction.
func ResignRelease(ctx context.Context, q Querier, product, version, os, arch string, envelope []byte) error {
	n, err := q.Exec(ctx, `UPDATE releases SET envelope = $1 WHERE product = $2 AND version = $3 AND os = $4 AND arch = $5`,
		envelope, product, version, os, arch)
	if err != nil {
		return fmt.Errorf("re-signing %s %s for %s/%s: %w", product, version, os, arch, err)
	}
	if n == 0 {
		return fmt.Errorf("re-signing %s %s for %s/%s: %w", product, version, os, arch, store.ErrNotFound)
	}
	return nil
}

// ProductSeries returns the series a product was published under:
// store.ErrNotFound for a product never published.
func ProductSeries(ctx context.Context, q Querier, product string) (string, error) {
	var series string
	err := q.QueryRow(ctx, `SELECT series FROM products WHERE name = $1`, product).Scan(&series)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("product %s: %w", product, store.ErrNotFound)
	} else if err != nil {
		return "", fmt.Errorf("product %s: %w", product, err)
	}
	return series, nil
}

// HasArtifact reports whether any release, file of a folder release or
// patch has this sha256.
func HasArtifact(ctx context.Context, q Querier, sha256 string) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM releases WHERE sha256 = $1)
		OR EXISTS (SELECT 1 FROM release_files WHERE sha256 = $1)
		OR EXISTS (SELECT 1 FROM patches WHERE patch_sha256 = $1)`, sha256).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("looking up artifact %s: %w", sha256, err)
	}
	return found, nil
}

// ConsumedVersions lists the distinct to-versions of an entitlement's
// consumed reservations for product.
func ConsumedVersions(ctx context.Context, q Querier, entitlementID int64, product string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT to_version FROM reservations
		WHERE entitlement_id = $1 AND state = 'consumed' AND product = $2`, entitlementID, product)
	if err != nil {
		return nil, fmt.Errorf("listing consumed versions of %s: %w", product, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("listing consumed versions of %s: %w", product, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing consumed versions of %s: %w", product, err)
	}
	return out, nil
}
