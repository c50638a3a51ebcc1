package admin

import (
	"context"
	"fmt"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/staff"
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
	out := make([]ReleaseStatus, 0, len(stats))
	for _, st := range stats {
		rs := ReleaseStatus{Version: st.Version, Channel: st.Channel, Offered: st.Offered, Started: st.Started,
			Succeeded: st.Succeeded, RolledBack: st.RolledBack, Failed: st.Failed, FailedBy: st.FailedBy, Installed: st.Installed}
		if st.Started > 0 {
			rate := float64(st.Succeeded) / float64(st.Started)
			rs.SuccessRate = &rate
		}
		out = append(out, rs)
	}
	return out, nil
}
