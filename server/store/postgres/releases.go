package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storesql"
)

// PutRelease records a release. Publishing the same artifact again under
// the same (product, version, os, arch) keeps the first envelope (a re-run
// publish signs a new PublishedAt, so envelope and time differ while the
// release is the same) and takes the new URL: the bytes moved to another
// origin. A different artifact (sha256 or size) there, or the product under
// another series, is ErrConflict.
//
// Both inserts are ON CONFLICT DO NOTHING followed by a read, so two
// replicas publishing at once end as one publishing after the other would.
func (s *Store) PutRelease(ctx context.Context, r store.Release) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("recording release: %w", err)
	}
	name := fmt.Sprintf("%s %s for %s/%s", r.Product, r.Version, r.OS, r.Arch)
	published, publishedNS := storedTime(r.PublishedAt)
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO products (name, series) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
			r.Product, r.Series); err != nil {
			return fmt.Errorf("recording product: %w", err)
		}
		var series string
		if err := tx.QueryRow(ctx, `SELECT series FROM products WHERE name = $1`, r.Product).Scan(&series); err != nil {
			return fmt.Errorf("looking up product: %w", err)
		}
		if err := r.CheckProductSeries(series); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO releases (product, version, os, arch, sha256, size, envelope, published_at, published_at_ns, url)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (product, version, os, arch) DO NOTHING`,
			r.Product, r.Version, r.OS, r.Arch, r.SHA256, r.Size, r.Envelope, published, publishedNS, r.URL)
		if err != nil {
			return fmt.Errorf("inserting release: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return insertFiles(ctx, tx, r)
		}
		var (
			sum  string
			size int64
		)
		err = tx.QueryRow(ctx, `SELECT sha256, size FROM releases WHERE product = $1 AND version = $2 AND os = $3 AND arch = $4`+forUpdate,
			r.Product, r.Version, r.OS, r.Arch).Scan(&sum, &size)
		if err != nil {
			return fmt.Errorf("looking up release: %w", err)
		}
		return storesql.PublishedAgain(ctx, shared{tx}, r, sum, size)
	})
	if err != nil {
		return fmt.Errorf("recording release %s: %w", name, err)
	}
	return nil
}

// insertFiles records a folder release's files, in one statement however
// many there are.
func insertFiles(ctx context.Context, tx pgx.Tx, r store.Release) error {
	if len(r.Files) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO release_files (product, version, os, arch, sha256)
		SELECT $1, $2, $3, $4, f FROM unnest($5::text[]) AS f
		ON CONFLICT DO NOTHING`,
		r.Product, r.Version, r.OS, r.Arch, r.Files)
	if err != nil {
		return fmt.Errorf("recording the folder's files: %w", err)
	}
	return nil
}

// Releases lists a product's releases for a platform (any order).
func (s *Store) Releases(ctx context.Context, product, os, arch string) ([]store.Release, error) {
	rs, err := s.queryReleases(ctx, ` WHERE r.product = $1 AND r.os = $2 AND r.arch = $3`, product, os, arch)
	if err != nil {
		return nil, scrub(fmt.Errorf("listing releases of %s for %s/%s: %w", product, os, arch, err), s.secret)
	}
	return rs, nil
}

// AllReleases lists every release (any order).
func (s *Store) AllReleases(ctx context.Context) ([]store.Release, error) {
	rs, err := s.queryReleases(ctx, "")
	if err != nil {
		return nil, scrub(fmt.Errorf("listing releases: %w", err), s.secret)
	}
	return rs, nil
}

func (s *Store) queryReleases(ctx context.Context, where string, args ...any) ([]store.Release, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+releaseColumns+releaseFrom+where, args...)
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
	return s.write(ctx, func(tx pgx.Tx) error {
		return storesql.ResignRelease(ctx, shared{tx}, product, version, os, arch, envelope)
	})
}

// ReleaseBySHA256 finds a product's release by artifact hash (any
// platform). Should one artifact have been published more than once, the
// first publication wins, so the answer does not change over time.
func (s *Store) ReleaseBySHA256(ctx context.Context, product, sha256 string) (store.Release, error) {
	r, err := scanRelease(s.pool.QueryRow(ctx, `SELECT `+releaseColumns+releaseFrom+`
		WHERE r.product = $1 AND r.sha256 = $2 ORDER BY r.seq LIMIT 1`, product, sha256))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Release{}, fmt.Errorf("release of %s with sha256 %s: %w", product, sha256, store.ErrNotFound)
	}
	return r, scrub(err, s.secret)
}

// ProductSeries returns the series a product was published under.
func (s *Store) ProductSeries(ctx context.Context, product string) (string, error) {
	series, err := storesql.ProductSeries(ctx, shared{s.pool}, product)
	return series, scrub(err, s.secret)
}

// HasArtifact reports whether any release or patch has this sha256.
func (s *Store) HasArtifact(ctx context.Context, sha256 string) (bool, error) {
	found, err := storesql.HasArtifact(ctx, shared{s.pool}, sha256)
	return found, scrub(err, s.secret)
}

// ArtifactURL returns where the artifact is served from: the URL of the
// first release published with this sha256 ("" for the blob store), or ""
// for a patch's bytes or a folder release's file.
func (s *Store) ArtifactURL(ctx context.Context, sha256 string) (string, error) {
	var u string
	err := s.pool.QueryRow(ctx, `SELECT url FROM (
			SELECT url, 0 AS patch, seq FROM releases WHERE sha256 = $1
			UNION ALL SELECT '', 1, 0 FROM patches WHERE patch_sha256 = $1
			UNION ALL SELECT '', 1, 0 FROM release_files WHERE sha256 = $1) AS found
		ORDER BY patch, seq LIMIT 1`, sha256).Scan(&u)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("artifact %s: %w", sha256, store.ErrNotFound)
	} else if err != nil {
		return "", scrub(fmt.Errorf("looking up artifact %s: %w", sha256, err), s.secret)
	}
	return u, nil
}

const (
	releaseColumns = `r.product, p.series, r.version, r.os, r.arch, r.sha256, r.size, r.envelope,
	r.published_at, r.published_at_ns, r.url`
	releaseFrom = ` FROM releases r JOIN products p ON p.name = r.product`
)

func scanRelease(sc pgx.Row) (store.Release, error) {
	var (
		r         store.Release
		published time.Time
		ns        int16
	)
	err := sc.Scan(&r.Product, &r.Series, &r.Version, &r.OS, &r.Arch, &r.SHA256, &r.Size, &r.Envelope,
		&published, &ns, &r.URL)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Release{}, err
	} else if err != nil {
		return store.Release{}, fmt.Errorf("reading release: %w", err)
	}
	r.PublishedAt = loadedTime(published, ns)
	return r, nil
}
