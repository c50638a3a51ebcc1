package storesql

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// The field reports (schema version 8) are new to both stores, so their
// SQL is written once, here (what is counted: server/store/reports.go).

// ReportStore is store.Reports for both stores: each sets it up on the
// same database and transactions as its StaffStore.
type ReportStore struct {
	SQL StaffStore
}

// AddReports records each report once, with what it adds to the
// summaries (field_attempts, field_installations), in one transaction.
func (s ReportStore) AddReports(ctx context.Context, reports []api.FieldReport, now time.Time) (int, error) {
	now = store.OrNow(now)
	var added int
	err := s.SQL.Write(ctx, func(ctx context.Context, q Querier) error {
		added = 0 // PostgreSQL may run this again after a deadlock
		for _, r := range reports {
			n, err := insertReport(ctx, q, r, now)
			if err != nil {
				return err
			}
			if n == 0 {
				continue // sent before
			}
			added++
			if err := summarise(ctx, q, r, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, s.SQL.clean(fmt.Errorf("recording field reports: %w", err))
	}
	return added, nil
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// insertReport appends r unless its ID is recorded: 1 when it was new.
func insertReport(ctx context.Context, q Querier, r api.FieldReport, now time.Time) (int64, error) {
	p := r.PhasesMS
	n, err := q.Exec(ctx, `
		INSERT INTO field_reports (id, product, installation, from_version, to_version, channel, outcome,
		    exit_code, cause, check_ms, download_ms, verify_ms, reserve_ms, apply_ms, health_ms, complete_ms,
		    forced, recovered, installer, os, arch, reported_at, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
		ON CONFLICT (id) DO NOTHING`,
		r.ID, r.Product, r.Installation, r.FromVersion, r.ToVersion, r.Channel, r.Outcome,
		int64(r.ExitCode), r.Cause, p.Check, p.Download, p.Verify, p.Reserve, p.Apply, p.Health, p.Complete,
		flag(r.Forced), flag(r.Recovered), r.Installer, r.OS, r.Arch, Nanos(r.At), Nanos(now))
	if err != nil {
		return 0, fmt.Errorf("recording report %s: %w", r.ID, err)
	}
	return n, nil
}

// summarise adds a new report to what is counted: the installation's
// attempt at the release, and the version it is now on (unless a later
// report, by the installer's clock, already said).
func summarise(ctx context.Context, q Querier, r api.FieldReport, now time.Time) error {
	var attempted int64
	if r.Outcome != api.OutcomeChecked {
		attempted = Nanos(now)
	}
	_, err := q.Exec(ctx, `
		INSERT INTO field_attempts (product, to_version, channel, installation, first_at, attempted_at, applied, rolled_back, failed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (product, to_version, channel, installation) DO UPDATE SET
		    attempted_at = CASE WHEN field_attempts.attempted_at = 0 THEN excluded.attempted_at ELSE field_attempts.attempted_at END,
		    applied = CASE WHEN excluded.applied = 1 THEN 1 ELSE field_attempts.applied END,
		    rolled_back = CASE WHEN excluded.rolled_back = 1 THEN 1 ELSE field_attempts.rolled_back END,
		    failed = CASE WHEN excluded.failed = 1 THEN 1 ELSE field_attempts.failed END`,
		r.Product, r.ToVersion, r.Channel, r.Installation, Nanos(now), attempted,
		flag(r.Outcome == api.OutcomeApplied), flag(r.Outcome == api.OutcomeRolledBack), flag(r.Outcome == api.OutcomeFailed))
	if err != nil {
		return fmt.Errorf("counting report %s: %w", r.ID, err)
	}
	_, err = q.Exec(ctx, `
		INSERT INTO field_installations (product, installation, version, channel, reported_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (product, installation) DO UPDATE SET
		    version = excluded.version, channel = excluded.channel, reported_at = excluded.reported_at
		WHERE excluded.reported_at >= field_installations.reported_at`,
		r.Product, r.Installation, store.VersionAfter(r), r.Channel, Nanos(r.At))
	if err != nil {
		return fmt.Errorf("counting report %s: %w", r.ID, err)
	}
	return nil
}

type statsKey struct{ version, channel string }

// ReleaseStats counts a product's reports per release and channel, from
// the summaries and the failed reports (store.Reports).
func (s ReportStore) ReleaseStats(ctx context.Context, product string) ([]store.ReleaseStats, error) {
	stats := map[statsKey]*store.ReleaseStats{}
	get := func(version, channel string) *store.ReleaseStats {
		k := statsKey{version, channel}
		if stats[k] == nil {
			stats[k] = &store.ReleaseStats{Version: version, Channel: channel, FailedBy: map[string]int{}}
		}
		return stats[k]
	}
	rows, err := s.SQL.DB.Query(ctx, `
		SELECT to_version, channel, count(*), count(CASE WHEN attempted_at <> 0 THEN 1 END),
		       count(CASE WHEN applied = 1 THEN 1 END), count(CASE WHEN rolled_back = 1 THEN 1 END),
		       count(CASE WHEN failed = 1 THEN 1 END)
		FROM field_attempts WHERE product = $1 GROUP BY to_version, channel`, product)
	_, err = collect(rows, err, "counting the attempts at "+product, func(r Row) (struct{}, error) {
		var v, c string
		var n [5]int
		if err := r.Scan(&v, &c, &n[0], &n[1], &n[2], &n[3], &n[4]); err != nil {
			return struct{}{}, err
		}
		st := get(v, c)
		st.Offered, st.Started, st.Succeeded, st.RolledBack, st.Failed = n[0], n[1], n[2], n[3], n[4]
		return struct{}{}, nil
	})
	if err != nil {
		return nil, s.SQL.clean(err)
	}
	rows, err = s.SQL.DB.Query(ctx, `
		SELECT to_version, channel, cause, count(DISTINCT installation)
		FROM field_reports WHERE product = $1 AND outcome = 'failed' GROUP BY to_version, channel, cause`, product)
	_, err = collect(rows, err, "counting the failures of "+product, func(r Row) (struct{}, error) {
		var v, c, cause string
		var n int
		err := r.Scan(&v, &c, &cause, &n)
		get(v, c).FailedBy[cause] = n
		return struct{}{}, err
	})
	if err != nil {
		return nil, s.SQL.clean(err)
	}
	rows, err = s.SQL.DB.Query(ctx, `
		SELECT version, channel, count(*) FROM field_installations WHERE product = $1 GROUP BY version, channel`, product)
	_, err = collect(rows, err, "counting the installations of "+product, func(r Row) (struct{}, error) {
		var v, c string
		var n int
		err := r.Scan(&v, &c, &n)
		get(v, c).Installed = n
		return struct{}{}, err
	})
	if err != nil {
		return nil, s.SQL.clean(err)
	}
	return newestStats(stats), nil
}

// newestStats orders stats newest version first (then by channel) and
// keeps those of the newest store.MaxStatsVersions versions.
func newestStats(stats map[statsKey]*store.ReleaseStats) []store.ReleaseStats {
	out := make([]store.ReleaseStats, 0, len(stats))
	for _, st := range stats {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b store.ReleaseStats) int {
		if c := api.CompareVersions(b.Version, a.Version); c != 0 {
			return c
		}
		return cmp.Compare(a.Channel, b.Channel)
	})
	versions := 0
	for i := range out {
		if i == 0 || out[i].Version != out[i-1].Version {
			versions++
		}
		if versions > store.MaxStatsVersions {
			return out[:i]
		}
	}
	return out
}

// FirstAttempts counts what the first n installations that attempted a
// release reported (store.Reports).
func (s ReportStore) FirstAttempts(ctx context.Context, product, version string, n int) (store.AttemptCounts, error) {
	if n <= 0 {
		return store.AttemptCounts{}, fmt.Errorf("counting the first attempts at %s %s: n must be positive, not %d", product, version, n)
	}
	var c store.AttemptCounts
	err := s.SQL.DB.QueryRow(ctx, `
		SELECT count(*), count(CASE WHEN failed = 1 AND applied = 0 THEN 1 END), count(CASE WHEN rolled_back = 1 THEN 1 END)
		FROM (SELECT installation, min(attempted_at) AS at, max(applied) AS applied, max(failed) AS failed,
		             max(rolled_back) AS rolled_back
		      FROM field_attempts WHERE product = $1 AND to_version = $2 AND attempted_at <> 0
		      GROUP BY installation ORDER BY at, installation LIMIT $3) AS first`,
		product, version, int64(n)).Scan(&c.Attempted, &c.Failed, &c.RolledBack)
	if err != nil {
		return store.AttemptCounts{}, s.SQL.clean(fmt.Errorf("counting the first attempts at %s %s: %w", product, version, err))
	}
	return c, nil
}

// ReportedProducts lists the products with field reports, in byte order.
func (s ReportStore) ReportedProducts(ctx context.Context) ([]string, error) {
	rows, err := s.SQL.DB.Query(ctx, `SELECT DISTINCT product FROM field_installations`)
	names, err := collect(rows, err, "listing the products with field reports", func(r Row) (string, error) {
		var n string
		return n, r.Scan(&n)
	})
	slices.Sort(names)
	return names, s.SQL.clean(err)
}
