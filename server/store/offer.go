package store

import (
	"slices"
	"strings"

	"github.com/aktual/aktual/api"
)

// OfferQuery is what one installation asks of a product's releases for
// its platform (the latest answer).
type OfferQuery struct {
	// Channel the installation follows ("" is stable).
	Channel string
	// Bucket is its place in staged rollouts (api.RolloutBucket); -1 when
	// it sent no machine identity, which no staged rollout reaches.
	Bucket int
	// Force takes a staged release early (support staff, for one
	// customer): the rollout is not asked. Halted and withdrawn releases
	// are never taken.
	Force bool
	// From is the installed version, "" when unknown: a release that
	// requires a newer one than From is not offered (the required one is).
	// When it is unknown, requirements cannot be applied.
	From string
	// Paths lists the ends of the required paths whose first step this
	// machine paid for (Controls' PaidPaths); asked only when a later
	// step may be free.
	Paths func() ([]string, error)
}

// Offer is the release an installation is offered, and why.
type Offer struct {
	Release *Release // nil: none
	Control ReleaseControl
	// Rollout is set when the offered release, or a newer one withheld
	// from this installation, is staged.
	Rollout *api.Rollout
	// Withheld lists the published versions newer than the offered one
	// (newest first, at most MaxWithheld): a client that was offered one of
	// them before accepts the older answer without taking it for a
	// replay.
	Withheld []string
	// Path is set when the release is a step of a required path.
	Path *api.Path
}

// MaxWithheld bounds Offer.Withheld.
const MaxWithheld = 32

// Catalog is a product's releases for one platform and their controls,
// prepared once for many Selects: ordered newest first, each with its
// control, and the versions withdrawn by a downgrade. The latest answers
// keep one per reading of the store; choosing for an installation is then
// a walk down the list (decoding every release's statement to find the
// withdrawn ones was most of the cost of an answer).
type Catalog struct {
	ordered  []Release
	controls []ReleaseControl // controls[i] is ordered[i]'s
	gone     map[string]bool  // canonical versions withdrawn
	// required lists the versions that require another: the only ends a
	// required path can have (a published requirement never changes:
	// admin's keepsRequirement), so the machine's paid paths are asked
	// only when one of them could make the release offered a free step.
	// A requirement added to a published version reaches a reading made
	// before it within latestRecheck (5 s) on another replica: in that
	// window a path through it, just paid elsewhere, is not yet free here.
	required []string
}

// NewCatalog prepares rs and cs for Select.
func NewCatalog(rs []Release, cs []ReleaseControl) *Catalog {
	c := &Catalog{ordered: slices.Clone(rs), gone: withdrawn(rs)}
	slices.SortFunc(c.ordered, func(a, b Release) int { return api.CompareVersions(b.Version, a.Version) })
	c.controls = make([]ReleaseControl, len(c.ordered))
	for i, r := range c.ordered {
		c.controls[i] = ControlOf(cs, r.Product, r.Version)
	}
	for _, ctl := range cs {
		if ctl.Requires != "" {
			c.required = append(c.required, ctl.Version)
		}
	}
	return c
}

// Select picks the release offered to an installation among a product's
// releases rs for one platform and their controls cs: NewCatalog(rs,
// cs).Select(q).
func Select(rs []Release, cs []ReleaseControl, q OfferQuery) (Offer, error) {
	return NewCatalog(rs, cs).Select(q)
}

// Select picks the release offered to an installation: the newest release
// that is live (neither halted nor yanked), in the installation's channel
// (stable releases are in every channel; a pre-release only in a channel
// it was published to by name), not withdrawn by a downgrade, reaching it
// if staged (unless forced; a critical release is never staged), and not
// requiring a version newer than the installed one. The version required
// is offered instead, as the first step of the path; a later step of a
// path whose first step this machine paid for after the path's end was
// published is free. The Offer's Release points into the catalog: do not
// change it.
func (cat *Catalog) Select(q OfferQuery) (Offer, error) {
	ordered, gone := cat.ordered, cat.gone
	var out Offer
	var pathTo, needs string // the newest release skipped for its requirement; the lowest requirement skipped
	for i := range ordered {
		r, c := &ordered[i], cat.controls[i]
		if !c.offeredIn(q.Channel, r.Version) || gone[api.CanonicalVersion(r.Version)] {
			continue
		}
		if c.Staged() && !c.Reaches(q.Bucket) && !q.Force {
			if out.Rollout == nil {
				out.Rollout = &api.Rollout{Version: r.Version, Percent: c.Percent, Bucket: max(q.Bucket, 0)}
			}
			continue
		}
		if c.Requires != "" && q.From != "" && api.CompareVersions(q.From, c.Requires) < 0 {
			if pathTo == "" {
				pathTo = r.Version
			}
			needs = c.Requires
			continue
		}
		out.Release, out.Control = r, c
		break
	}
	if out.Release == nil {
		return Offer{}, nil
	}
	// A path is promised only when the release offered meets the
	// requirement of the next release skipped: otherwise the path is
	// broken (the required version halted, staged away, on another
	// channel) and this is an ordinary update.
	if pathTo != "" && api.CompareVersions(out.Release.Version, needs) >= 0 {
		out.Path = &api.Path{To: pathTo}
	}
	if out.Control.Staged() {
		reached := out.Control.Reaches(q.Bucket)
		out.Rollout = &api.Rollout{Version: out.Release.Version, Percent: out.Control.Percent,
			Bucket: max(q.Bucket, 0), Reached: true, Forced: !reached}
	}
	out.Withheld = newerVersions(ordered, out.Release.Version)
	end, err := freeStep(out.Release, q, cat.required)
	switch {
	case err != nil:
		return Offer{}, err
	case end != "" && out.Path == nil:
		out.Path = &api.Path{To: end, Free: true}
	case end != "":
		out.Path.Free = true
	}
	return out, nil
}

// offeredIn reports whether a release of version under control c may be
// offered to an installation following channel: live, in the channel, and
// a pre-release only in a channel it was published to by name.
func (c ReleaseControl) offeredIn(channel, version string) bool {
	if channel == "" {
		channel = ChannelStable
	}
	if c.State != ControlLive || !c.InChannel(channel) {
		return false
	}
	return !strings.Contains(version, "-") || (channel != ChannelStable && slices.Contains(c.Channels, channel))
}

// freeStep reports whether r continues a required path whose first step
// this machine paid for, and returns where that path ends ("" when it does
// not): a paid path that ends at or beyond r and that the installation
// has not reached yet. The end is what the installer was offered with the
// first step (recorded with its reservation: RecordPathStep), so an
// ordinary purchase is never taken for a step.
func freeStep(r *Release, q OfferQuery, ends []string) (string, error) {
	if q.From == "" || q.Paths == nil || api.CompareVersions(r.Version, q.From) <= 0 {
		return "", nil
	}
	if !slices.ContainsFunc(ends, func(end string) bool { return pathCovers(end, q.From, r.Version) }) {
		return "", nil // no path could: the machine's are not asked
	}
	paths, err := q.Paths()
	if err != nil {
		return "", err
	}
	for _, end := range paths {
		if pathCovers(end, q.From, r.Version) {
			return end, nil
		}
	}
	return "", nil
}

// pathCovers reports whether a path ending at end covers a step from
// version from to version to.
func pathCovers(end, from, to string) bool {
	return api.CompareVersions(from, end) < 0 && api.CompareVersions(to, end) <= 0
}

// newerVersions lists the distinct versions of ordered (newest first)
// newer than v, at most MaxWithheld.
func newerVersions(ordered []Release, v string) []string {
	var out []string
	for _, r := range ordered {
		if api.CompareVersions(r.Version, v) <= 0 || len(out) == MaxWithheld {
			break
		}
		if len(out) == 0 || api.CompareVersions(out[len(out)-1], r.Version) != 0 {
			out = append(out, r.Version)
		}
	}
	return out
}

// ForEveryone keeps the releases of rs that are offered to every
// installation on the stable channel: live, published to stable, not
// staged (or critical). What a first install may be given, and what
// replaces a withdrawn version.
func ForEveryone(rs []Release, cs []ReleaseControl) []Release {
	var out []Release
	for _, r := range rs {
		c := ControlOf(cs, r.Product, r.Version)
		if c.offeredIn("", r.Version) && !c.Staged() {
			out = append(out, r)
		}
	}
	return out
}
