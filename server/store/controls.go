package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
)

// Release control (issue 20): how a published version is offered. A
// release is signed once, at publish time, with the offline release key;
// what staff decide afterwards — which channels carry it, how far it is
// rolled out, whether it is halted or withdrawn for good — is the server's
// to say, in each latest answer it signs with the online key. A version
// with no control stored is live on the stable channel, rolled out to
// everyone: every release published before schema version 7.

// Release states.
const (
	ControlLive   = "live"   // offered (as far as its rollout reaches)
	ControlHalted = "halted" // not offered, and no update to it reserved, until resumed
	ControlYanked = "yanked" // withdrawn for good: never offered again
)

// ChannelStable is the channel every installation follows unless told
// otherwise; an installation on another channel is offered that
// channel's releases and the stable ones.
const ChannelStable = "stable"

// MaxChannels bounds the channels one release is published to.
const MaxChannels = 8

// ReleaseControl is how one version of a product (every platform) is
// offered.
type ReleaseControl struct {
	Product  string
	Version  string   // canonical (api.CanonicalVersion)
	Channels []string // sorted, at least one; default [stable]
	// Percent is how far a staged rollout reaches: an installation is
	// offered the release when its bucket (api.RolloutBucket) is below
	// Percent×100. 100: everyone.
	Percent int
	// Critical releases skip the stages: everyone is offered them at
	// once, and the installer says the update is critical.
	Critical bool
	State    string // ControlLive, ControlHalted or ControlYanked
	// Requires is the version an older installation must pass through
	// first ("" for none): the latest answer offers it instead.
	Requires string
	// The automatic brake: among the first BrakeAfter installations that
	// attempted the release, a share of failures and rollbacks above
	// BrakeRate percent halts it. BrakeAfter 0: no brake.
	BrakeAfter int
	BrakeRate  int
	// Notes is the release notes' envelope (api.PayloadNotes), signed with
	// the release key at publish time; nil when there are none.
	Notes []byte
	// Reason, ChangedBy and ChangedAt say why, by whom and when the
	// control last changed.
	Reason    string
	ChangedBy string
	ChangedAt time.Time
}

// DefaultControl is the control of a version none was stored for.
func DefaultControl(product, version string) ReleaseControl {
	return ReleaseControl{Product: product, Version: api.CanonicalVersion(version),
		Channels: []string{ChannelStable}, Percent: 100, State: ControlLive}
}

// ErrControl is wrapped by every refusal of a control change staff asked
// for; the message says what to do.
var ErrControl = errors.New("release control refused")

// Validate checks what every store refuses in a control.
func (c ReleaseControl) Validate() error {
	switch {
	case !api.ValidName(c.Product) || !api.ValidVersion(c.Version):
		return fmt.Errorf("%w: release %q %q is not a product name and version", ErrControl, c.Product, c.Version)
	case len(c.Channels) == 0 || len(c.Channels) > MaxChannels:
		return fmt.Errorf("%w: a release is published to 1 to %d channels", ErrControl, MaxChannels)
	case c.Percent < 0 || c.Percent > 100:
		return fmt.Errorf("%w: a rollout reaches 0 to 100 percent, not %d", ErrControl, c.Percent)
	case c.State != ControlLive && c.State != ControlHalted && c.State != ControlYanked:
		return fmt.Errorf("%w: unknown release state %q", ErrControl, c.State)
	case c.Requires != "" && (!api.ValidVersion(c.Requires) || api.CompareVersions(c.Requires, c.Version) >= 0):
		return fmt.Errorf("%w: a release can require only an older version, not %q", ErrControl, c.Requires)
	case c.BrakeAfter < 0 || c.BrakeRate < 0 || c.BrakeRate > 100:
		return fmt.Errorf("%w: the brake needs a number of installations and a rate of 0 to 100 percent", ErrControl)
	}
	for _, ch := range c.Channels {
		if !api.ValidName(ch) {
			return fmt.Errorf("%w: %q is not a channel name (letters, digits, dots, dashes)", ErrControl, ch)
		}
	}
	return nil
}

// InChannel reports whether an installation following channel is offered
// the release: its channel's releases and the stable ones.
func (c ReleaseControl) InChannel(channel string) bool {
	return slices.Contains(c.Channels, ChannelStable) || slices.Contains(c.Channels, channel)
}

// Staged reports whether the release is offered to only part of its
// installations.
func (c ReleaseControl) Staged() bool { return c.Percent < 100 && !c.Critical }

// Reaches reports whether the rollout reaches an installation in bucket
// (0 to api.RolloutBuckets-1).
func (c ReleaseControl) Reaches(bucket int) bool {
	return !c.Staged() || (bucket >= 0 && bucket < c.Percent*(api.RolloutBuckets/100))
}

// ParseChannels reads a comma-separated list of channels: sorted,
// without duplicates; stable when empty.
func ParseChannels(s string) []string {
	var out []string
	for _, ch := range strings.Split(s, ",") {
		if ch = strings.TrimSpace(ch); ch != "" && !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	if len(out) == 0 {
		return []string{ChannelStable}
	}
	slices.Sort(out)
	return out
}

// ControlOf finds version's control among cs (any order): the default
// when none is stored.
func ControlOf(cs []ReleaseControl, product, version string) ReleaseControl {
	for _, c := range cs {
		if api.CompareVersions(c.Version, version) == 0 {
			return c
		}
	}
	return DefaultControl(product, version)
}

// Controls is the release control part of Store.
type Controls interface {
	// ReleaseControls lists the controls stored for product's versions
	// (any order); a version not listed has DefaultControl.
	ReleaseControls(ctx context.Context, product string) ([]ReleaseControl, error)
	// ChangeReleaseControl reads the control of (product, version) — the
	// default when none is stored — locked, in one transaction with its
	// change: change edits it (or refuses, and nothing changes); it is
	// stored with an audit event of action (e.g. "release.halt") whose
	// detail says what changed. The version need not be published yet:
	// publishing records its control just before the release.
	ChangeReleaseControl(ctx context.Context, product, version, action string, a Actor, change func(*ReleaseControl) error) (ReleaseControl, error)
	// RecordPathStep records that reservation (made by machine, for
	// product) is the first step of a required path ending at pathTo.
	// Recording it again is a no-op. ErrNotFound when there is no such
	// reservation.
	RecordPathStep(ctx context.Context, reservationID, product, machine, pathTo string) error
	// PaidPaths lists the releases the required paths end at whose first
	// step machine paid for (a consumed reservation) for product.
	PaidPaths(ctx context.Context, product, machine string) ([]string, error)
}

// ControlDetail says what a change of a control (from old) changed, for
// the audit log.
func ControlDetail(old, c ReleaseControl) string {
	var parts []string
	add := func(what, from, to string) {
		if from != to {
			parts = append(parts, what+" "+from+" → "+to)
		}
	}
	add("state", old.State, c.State)
	add("channels", strings.Join(old.Channels, ","), strings.Join(c.Channels, ","))
	add("rollout", fmt.Sprint(old.Percent, "%"), fmt.Sprint(c.Percent, "%"))
	add("critical", fmt.Sprint(old.Critical), fmt.Sprint(c.Critical))
	add("requires", old.Requires, c.Requires)
	add("brake", fmt.Sprintf("%d/%d%%", old.BrakeAfter, old.BrakeRate), fmt.Sprintf("%d/%d%%", c.BrakeAfter, c.BrakeRate))
	if string(old.Notes) != string(c.Notes) {
		parts = append(parts, "notes changed")
	}
	if len(parts) == 0 {
		return c.Product + " " + c.Version + ": nothing changed"
	}
	return c.Product + " " + c.Version + ": " + strings.Join(parts, "; ")
}

// ActorBrake is the audit actor of the automatic brake.
const ActorBrake = "brake"

// Brakes reports whether the automatic brake halts the release, given
// what its first BrakeAfter installations did, and says why. It halts as
// soon as the failures and rollbacks are more than BrakeRate percent of
// BrakeAfter — certain to pass the threshold, whatever the rest do — so a
// bad release stops before all of the first installations try it.
func (c ReleaseControl) Brakes(a AttemptCounts) (bool, string) {
	bad := a.Failed + a.RolledBack
	if c.BrakeAfter <= 0 || c.State != ControlLive || bad*100 <= c.BrakeRate*c.BrakeAfter {
		return false, ""
	}
	return true, fmt.Sprintf("automatic brake: %d of the first %d installations that tried it failed (%d) or were rolled back (%d), over %d%%",
		bad, c.BrakeAfter, a.Failed, a.RolledBack, c.BrakeRate)
}
