package admin

import (
	"context"
	"time"

	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// ControlView is a release control as the admin API and `aktuald release
// … --json` show it: the notes as whether there are any (they are a
// signed envelope, read by installers), the time as RFC 3339.
type ControlView struct {
	Product    string   `json:"product"`
	Version    string   `json:"version"`
	State      string   `json:"state"`
	Channels   []string `json:"channels"`
	Percent    int      `json:"percent"`
	Critical   bool     `json:"critical"`
	Requires   string   `json:"requires,omitempty"`
	BrakeAfter int      `json:"brake_after,omitempty"`
	BrakeRate  int      `json:"brake_rate,omitempty"`
	Notes      bool     `json:"notes"`
	Reason     string   `json:"reason,omitempty"`
	ChangedBy  string   `json:"changed_by,omitempty"`
	ChangedAt  string   `json:"changed_at,omitempty"`
}

// ViewOf is c as staff's tools show it.
func ViewOf(c Control) ControlView {
	v := ControlView{Product: c.Product, Version: c.Version, State: c.State, Channels: c.Channels, Percent: c.Percent,
		Critical: c.Critical, Requires: c.Requires, BrakeAfter: c.BrakeAfter, BrakeRate: c.BrakeRate, Notes: c.Notes != nil,
		Reason: c.Reason, ChangedBy: c.ChangedBy}
	if !c.ChangedAt.IsZero() {
		v.ChangedAt = c.ChangedAt.UTC().Format(time.RFC3339)
	}
	return v
}

// YankView is what a withdrawal did, as the admin API shows it: the
// control, and per platform the release its installations move back to.
type YankView struct {
	ControlView
	Downgrades []YankDowngrade `json:"downgrades"`
}

// ViewOfYank is y as staff's tools show it.
func ViewOfYank(y Yanked) YankView {
	return YankView{ControlView: ViewOf(y.Control), Downgrades: y.Downgrades}
}

// ReleaseStatusPage is one page of a product's release status rows
// (newest release first); Next is the offset of the next page, 0 after
// the last.
type ReleaseStatusPage struct {
	Product  string          `json:"product"`
	Releases []ReleaseStatus `json:"releases"`
	Next     int             `json:"next"`
}

// ReleaseControl is how product's version is offered now: what the
// console's preview of a change starts from. Refused (not found) for a
// version not published.
func (a *Admin) ReleaseControl(ctx context.Context, c Caller, product, version string) (Control, error) {
	if err := c.allow(staff.ActViewReleases); err != nil {
		return Control{}, err
	}
	if _, err := a.platforms(ctx, product, version); err != nil {
		return Control{}, err
	}
	cs, err := a.Store.ReleaseControls(ctx, product)
	if err != nil {
		return Control{}, err
	}
	return store.ControlOf(cs, product, version), nil
}
