package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// Yanked is what withdrawing a version for good did.
type Yanked struct {
	Control Control `json:"control"`
	// Downgrades are the releases (one per platform) re-signed to replace
	// the withdrawn version: its installations move back to them free of
	// charge. A platform with no older live release gets none.
	Downgrades []YankDowngrade `json:"downgrades"`
}

// YankDowngrade is one platform's replacement of a withdrawn version.
type YankDowngrade struct {
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	Version string `json:"version"` // "" when no older release is live
}

// Yank withdraws product's version for good: it is never offered again
// and no update to it is reserved, and on each platform the newest older
// live release is signed anew (release key) as a downgrade from it — the
// free downgrade `release publish --downgrade-from` gives — so its
// installations move back. It cannot be undone: publish a new version.
func (a *Admin) Yank(ctx context.Context, c Caller, product, version, reason string) (Yanked, error) {
	ctl, err := a.changeControl(ctx, c, product, version, "release.yank", reason, func(ctl *store.ReleaseControl) error {
		ctl.State = store.ControlYanked
		return nil
	})
	if err != nil {
		return Yanked{}, err
	}
	rels, err := a.platforms(ctx, product, version)
	if err != nil {
		return Yanked{}, err
	}
	cs, err := a.Store.ReleaseControls(ctx, product)
	if err != nil {
		return Yanked{}, err
	}
	out := Yanked{Control: ctl, Downgrades: []YankDowngrade{}}
	defer a.Changes.Changed() // the downgrades too are seen at once
	for _, r := range rels {
		v, err := a.downgradeFrom(ctx, r, cs)
		if err != nil {
			return out, fmt.Errorf("%s %s is withdrawn, but the downgrade for %s/%s could not be signed: %w; run the command again", product, version, r.OS, r.Arch, err)
		}
		out.Downgrades = append(out.Downgrades, YankDowngrade{OS: r.OS, Arch: r.Arch, Version: v})
		if v != "" {
			if err := a.Store.RecordEvent(ctx, store.AuditEvent{At: a.Now.UTC(), Actor: c.Actor, Address: c.Address, Action: "release.downgrade",
				Detail: fmt.Sprintf("%s %s for %s/%s re-signed to replace the withdrawn %s", product, v, r.OS, r.Arch, version), Reason: reason}); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// YankPlan says, without changing anything, what Yank of product's
// version would do on each platform: the release its installations
// would move back to ("" when none). The console shows it before staff
// confirm a withdrawal.
func (a *Admin) YankPlan(ctx context.Context, c Caller, product, version string) ([]YankDowngrade, error) {
	if err := c.allow(staff.ActControlReleases); err != nil {
		return nil, err
	}
	rels, err := a.platforms(ctx, product, version)
	if err != nil {
		return nil, err
	}
	cs, err := a.Store.ReleaseControls(ctx, product)
	if err != nil {
		return nil, err
	}
	out := make([]YankDowngrade, 0, len(rels))
	for _, r := range rels {
		best, err := a.downgradeTarget(ctx, r, cs)
		if err != nil {
			return nil, err
		}
		d := YankDowngrade{OS: r.OS, Arch: r.Arch}
		if best != nil {
			d.Version = best.Version
		}
		out = append(out, d)
	}
	return out, nil
}

// downgradeTarget is, on yanked's platform, the newest older release
// every stable installation is offered (live, stable, not staged, not a
// pre-release); nil when there is none.
func (a *Admin) downgradeTarget(ctx context.Context, yanked store.Release, cs []store.ReleaseControl) (*store.Release, error) {
	rs, err := a.Store.Releases(ctx, yanked.Product, yanked.OS, yanked.Arch)
	if err != nil {
		return nil, err
	}
	var best *store.Release
	live := store.ForEveryone(rs, cs)
	for i, r := range live {
		older := api.CompareVersions(r.Version, yanked.Version) < 0 && !strings.Contains(r.Version, "-")
		if older && (best == nil || api.CompareVersions(r.Version, best.Version) > 0) {
			best = &live[i]
		}
	}
	return best, nil
}

// downgradeFrom re-signs downgradeTarget with yanked's version added to
// its DowngradeFrom, and returns its version ("" when there is none).
func (a *Admin) downgradeFrom(ctx context.Context, yanked store.Release, cs []store.ReleaseControl) (string, error) {
	best, err := a.downgradeTarget(ctx, yanked, cs)
	if err != nil || best == nil {
		return "", err
	}
	var env api.Envelope
	if err := json.Unmarshal(best.Envelope, &env); err != nil {
		return "", err
	}
	var st api.ReleaseStatement
	if err := env.VerifyInto(api.PayloadRelease, a.Keys.KeySet.ReleaseKeys, &st); err != nil {
		return "", err
	}
	if st.Replaces(yanked.Version) {
		return best.Version, nil // yanked again: already replaced
	}
	st.DowngradeFrom = append(slices.Clone(st.DowngradeFrom), yanked.Version)
	payload, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(api.Sign(api.PayloadRelease, payload, a.Keys.Release))
	if err != nil {
		return "", err
	}
	return best.Version, a.Store.ResignRelease(ctx, best.Product, best.Version, best.OS, best.Arch, data)
}
