package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// PutRelease records a release. Publishing the same artifact again under
// the same (product, version, os, arch) keeps the first envelope (a re-run
// publish signs a new PublishedAt, so envelope and time differ while the
// release is the same) and takes the new URL: the bytes moved to another
// origin. A different artifact (sha256 or size) there, or the product under
// another series, is ErrConflict.
func (s *Store) PutRelease(ctx context.Context, r store.Release) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("recording release: %w", err)
	}
	name := fmt.Sprintf("%s %s for %s/%s", r.Product, r.Version, r.OS, r.Arch)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var series string
		err := tx.QueryRowContext(ctx, `SELECT series FROM products WHERE name = ?`, r.Product).Scan(&series)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO products (name, series) VALUES (?, ?)`, r.Product, r.Series); err != nil {
				return fmt.Errorf("recording product: %w", err)
			}
		case err != nil:
			return fmt.Errorf("looking up product: %w", err)
		default:
			if err := r.CheckProductSeries(series); err != nil {
				return err
			}
		}
		var (
			sum  string
			size int64
		)
		err = tx.QueryRowContext(ctx, `SELECT sha256, size FROM releases WHERE product = ? AND version = ? AND os = ? AND arch = ?`,
			r.Product, r.Version, r.OS, r.Arch).Scan(&sum, &size)
		switch {
		case err == nil:
			return storesql.PublishedAgain(ctx, shared{tx}, r, sum, size)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("looking up release: %w", err)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO releases (product, version, os, arch, sha256, size, envelope, published_at, url)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Product, r.Version, r.OS, r.Arch, r.SHA256, r.Size, r.Envelope, formatTime(r.PublishedAt), r.URL)
		if err != nil {
			return fmt.Errorf("inserting release: %w", err)
		}
		return insertFiles(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("recording release %s: %w", name, err)
	}
	return nil
}

// insertFiles records a folder release's files, in one statement however
// many there are.
func insertFiles(ctx context.Context, tx *sql.Tx, r store.Release) error {
	if len(r.Files) == 0 {
		return nil
	}
	files, err := json.Marshal(r.Files)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT OR IGNORE INTO release_files (product, version, os, arch, sha256)
		SELECT ?, ?, ?, ?, value FROM json_each(?)`,
		r.Product, r.Version, r.OS, r.Arch, string(files))
	if err != nil {
		return fmt.Errorf("recording the folder's files: %w", err)
	}
	return nil
}

// Releases lists a product's releases for a platform (any order).
func (s *Store) Releases(ctx context.Context, product, os, arch string) ([]store.Release, error) {
	rs, err := s.queryReleases(ctx, ` WHERE r.product = ? AND r.os = ? AND r.arch = ?`, product, os, arch)
	if err != nil {
		return nil, fmt.Errorf("listing releases of %s for %s/%s: %w", product, os, arch, err)
	}
	return rs, nil
}

// AllReleases lists every release (any order).
func (s *Store) AllReleases(ctx context.Context) ([]store.Release, error) {
	rs, err := s.queryReleases(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	return rs, nil
}

func (s *Store) queryReleases(ctx context.Context, where string, args ...any) ([]store.Release, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+releaseColumns+releaseFrom+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ResignRelease replaces a release's envelope (a new signature after a
// release key is revoked).
func (s *Store) ResignRelease(ctx context.Context, product, version, os, arch string, envelope []byte) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return storesql.ResignRelease(ctx, shared{tx}, product, version, os, arch, envelope)
	})
}

// ReleaseBySHA256 finds a product's release by artifact hash (any
// platform). Should one artifact have been published more than once, the
// first publication wins, so the answer does not change over time.
func (s *Store) ReleaseBySHA256(ctx context.Context, product, sha256 string) (store.Release, error) {
	r, err := scanRelease(s.db.QueryRowContext(ctx, `SELECT `+releaseColumns+releaseFrom+`
		WHERE r.product = ? AND r.sha256 = ? ORDER BY r.rowid LIMIT 1`, product, sha256))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Release{}, fmt.Errorf("release of %s with sha256 %s: %w", product, sha256, store.ErrNotFound)
	}
	return r, err
}

// ProductSeries returns the series a product was published under.
func (s *Store) ProductSeries(ctx context.Context, product string) (string, error) {
	return storesql.ProductSeries(ctx, shared{s.prepared(nil)}, product)
}

// HasArtifact reports whether any release or patch has this sha256.
func (s *Store) HasArtifact(ctx context.Context, sha256 string) (bool, error) {
	return storesql.HasArtifact(ctx, shared{s.db}, sha256)
}

// ArtifactURL returns where the artifact is served from: the URL of the
// first release published with this sha256 ("" for the blob store), or ""
// for a patch's bytes or a folder release's file.
func (s *Store) ArtifactURL(ctx context.Context, sha256 string) (string, error) {
	var u string
	err := s.db.QueryRowContext(ctx, `SELECT url FROM (
			SELECT url, 0 AS patch, rowid AS seq FROM releases WHERE sha256 = ?1
			UNION ALL SELECT '', 1, 0 FROM patches WHERE patch_sha256 = ?1
			UNION ALL SELECT '', 1, 0 FROM release_files WHERE sha256 = ?1)
		ORDER BY patch, seq LIMIT 1`, sha256).Scan(&u)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("artifact %s: %w", sha256, store.ErrNotFound)
	} else if err != nil {
		return "", fmt.Errorf("looking up artifact %s: %w", sha256, err)
	}
	return u, nil
}

const (
	releaseColumns = `r.product, p.series, r.version, r.os, r.arch, r.sha256, r.size, r.envelope, r.published_at, r.url`
	releaseFrom    = ` FROM releases r JOIN products p ON p.name = r.product`
)

func scanRelease(sc scanner) (store.Release, error) {
	var (
		r         store.Release
		published string
	)
	err := sc.Scan(&r.Product, &r.Series, &r.Version, &r.OS, &r.Arch, &r.SHA256, &r.Size, &r.Envelope, &published, &r.URL)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Release{}, err
	} else if err != nil {
		return store.Release{}, fmt.Errorf("reading release: %w", err)
	}
	if r.PublishedAt, err = parseTime(published); err != nil {
		return store.Release{}, fmt.Errorf("reading release %s %s: %w", r.Product, r.Version, err)
	}
	return r, nil
}

// PaidPaths is storesql's (store.Controls), through a prepared statement:
// every latest answer to an installer that needs an update asks it, and
// parsing its SQL afresh was a quarter of such an answer's cost.
func (s *Store) PaidPaths(ctx context.Context, product, machine string) ([]string, error) {
	st := s.StaffStore
	st.DB = shared{s.prepared(nil)}
	return st.PaidPaths(ctx, product, machine)
}
