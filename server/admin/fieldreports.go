package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// ReleaseStatus is what the field reports say of one release in one
// channel: one row of aktuald release status and of the console's table.
// Each count is of distinct installations (server/store/reports.go says
// what is counted); more columns may be added as fields.
type ReleaseStatus struct {
	Version    string         `json:"version"`
	Channel    string         `json:"channel"` // "" is the stable channel
	Offered    int            `json:"offered"`
	Started    int            `json:"started"`
	Succeeded  int            `json:"succeeded"`
	RolledBack int            `json:"rolled_back"`
	Failed     int            `json:"failed"`
	FailedBy   map[string]int `json:"failed_by"` // cause → installations
	// SuccessRate is Succeeded / Started; nil when none started.
	SuccessRate *float64 `json:"success_rate"`
	// Installed is how many installations are now on Version.
	Installed int `json:"installed"`
	// How the release is offered (release control): live, halted or
	// yanked (and why, by whom), the percent of a staged rollout, the
	// channels that carry it, critical.
	State     string   `json:"state"`
	Rollout   int      `json:"rollout_percent"`
	Channels  []string `json:"channels"`
	Critical  bool     `json:"critical,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	ChangedBy string   `json:"changed_by,omitempty"`
}

// ReleaseStatus counts a product's field reports per release and
// channel, newest release first.
func (a *Admin) ReleaseStatus(ctx context.Context, c Caller, product string) ([]ReleaseStatus, error) {
	if err := c.allow(staff.ActViewReleases); err != nil {
		return nil, err
	}
	if !api.ValidName(product) {
		return nil, invalid("the product must be a product's name, e.g. ledger")
	}
	stats, err := a.Store.ReleaseStats(ctx, product)
	if err != nil {
		return nil, fmt.Errorf("counting the field reports of %s: %w", product, err)
	}
	cs, err := a.Store.ReleaseControls(ctx, product)
	if err != nil {
		return nil, err
	}
	out := make([]ReleaseStatus, 0, len(stats))
	reported := map[string]bool{}
	for _, st := range stats {
		reported[api.CanonicalVersion(st.Version)] = true
		rs := ReleaseStatus{Version: st.Version, Channel: st.Channel, Offered: st.Offered, Started: st.Started,
			Succeeded: st.Succeeded, RolledBack: st.RolledBack, Failed: st.Failed, FailedBy: st.FailedBy, Installed: st.Installed}
		if st.Started > 0 {
			rate := float64(st.Succeeded) / float64(st.Started)
			rs.SuccessRate = &rate
		}
		out = append(out, withControl(rs, store.ControlOf(cs, product, st.Version)))
	}
	// Published releases with no reports yet (just published, or halted
	// before anyone tried them) are listed too.
	rels, err := a.Store.AllReleases(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		v := api.CanonicalVersion(r.Version)
		if r.Product != product || reported[v] {
			continue
		}
		reported[v] = true
		out = append(out, withControl(ReleaseStatus{Version: r.Version, FailedBy: map[string]int{}}, store.ControlOf(cs, product, r.Version)))
	}
	slices.SortStableFunc(out, func(x, y ReleaseStatus) int { return api.CompareVersions(y.Version, x.Version) })
	if len(out) > store.MaxStatsVersions*2 {
		out = out[:store.MaxStatsVersions*2]
	}
	return out, nil
}

// withControl adds how the release is offered to its row.
func withControl(rs ReleaseStatus, c store.ReleaseControl) ReleaseStatus {
	rs.State, rs.Rollout, rs.Channels, rs.Critical = c.State, c.Percent, c.Channels, c.Critical
	if c.State != store.ControlLive || c.ChangedBy != "" {
		rs.Reason, rs.ChangedBy = c.Reason, c.ChangedBy
	}
	return rs
}
