package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// ControlParams say how a version being published is offered. A nil
// field leaves what is stored (the default for a new version: stable,
// everyone, no brake, no notes).
type ControlParams struct {
	Channels   []string
	Percent    *int
	Critical   *bool
	Requires   *string
	BrakeAfter *int
	BrakeRate  *int
	// Notes are the release notes in Markdown, by language ("bg", "en"):
	// signed with the release key, they replace any stored before.
	Notes map[string]string
	// Actor is who publishes (the audit log); the zero Actor is the
	// server's shell.
	Actor store.Actor
}

func (p ControlParams) empty() bool {
	return p.Channels == nil && p.Percent == nil && p.Critical == nil && p.Requires == nil &&
		p.BrakeAfter == nil && p.BrakeRate == nil && p.Notes == nil
}

// checkControl refuses control parameters no release may have, before
// anything is stored: bad notes, a required version not published.
func (a *Admin) checkControl(ctx context.Context, p PublishParams) error {
	c := p.Control
	for lang, text := range c.Notes {
		switch {
		case !slices.Contains(api.NotesLanguages, lang):
			return fmt.Errorf("release notes in %q: write them in %s", lang, strings.Join(api.NotesLanguages, " or "))
		case len(text) > api.MaxNotesSize:
			return fmt.Errorf("the %s release notes are %d bytes; keep them under %d (link to a longer page)", lang, len(text), api.MaxNotesSize)
		case !utf8.ValidString(text):
			return fmt.Errorf("the %s release notes are not UTF-8 text", lang)
		}
	}
	if c.Requires != nil && *c.Requires != "" {
		rs, err := a.Store.Releases(ctx, p.Product, p.OS, p.Arch)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rs, func(r store.Release) bool { return api.CompareVersions(r.Version, *c.Requires) == 0 }) {
			return fmt.Errorf("--requires %s: %s %s is not published for %s/%s; publish it first", *c.Requires, p.Product, *c.Requires, p.OS, p.Arch)
		}
	}
	cs, err := a.Store.ReleaseControls(ctx, p.Product)
	if err != nil {
		return err
	}
	ctl := store.ControlOf(cs, p.Product, p.Version)
	if ctl.State == store.ControlYanked {
		return fmt.Errorf("%s %s was withdrawn for good (aktuald release yank); publish a new version", p.Product, p.Version)
	}
	if err := keepsRequirement(ctl, p); err != nil {
		return err
	}
	return applyControl(&ctl, c, nil)
}

// keepsRequirement refuses a publish that would change or drop the
// requirement stored in ctl. Installations may have paid for a path
// through it already, and the offer finds their free steps by the
// requirements (store.Catalog). Checked before anything is stored, and
// again under the control's lock when it is written (recordControl), so
// that two publishes at once cannot both pass.
func keepsRequirement(ctl store.ReleaseControl, p PublishParams) error {
	if r := p.Control.Requires; ctl.Requires != "" && r != nil && api.CompareVersions(*r, ctl.Requires) != 0 {
		return fmt.Errorf("%s %s requires %s, and a published requirement cannot change (installations may be on the way through it); publish a new version", p.Product, p.Version, ctl.Requires)
	}
	return nil
}

// applyControl sets the fields p gives on c, with notes the signed
// envelope (nil: keep).
func applyControl(c *store.ReleaseControl, p ControlParams, notes []byte) error {
	if p.Channels != nil {
		c.Channels = store.ParseChannels(strings.Join(p.Channels, ","))
	}
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.Percent, p.Percent)
	set(&c.BrakeAfter, p.BrakeAfter)
	set(&c.BrakeRate, p.BrakeRate)
	if p.Critical != nil {
		c.Critical = *p.Critical
	}
	if p.Requires != nil {
		c.Requires = *p.Requires
	}
	if notes != nil {
		c.Notes = notes
	}
	return c.Validate()
}

// recordControl stores how a version being published is offered, before
// its release is stored: a staged release is never offered to everyone,
// not even for a moment.
func (a *Admin) recordControl(ctx context.Context, p PublishParams, sum string, published time.Time) error {
	if p.Control.empty() {
		return nil
	}
	// A publish that will be refused (other contents under this version)
	// must not change how the published release is offered.
	rs, err := a.Store.Releases(ctx, p.Product, p.OS, p.Arch)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if api.CompareVersions(r.Version, p.Version) == 0 && r.SHA256 != sum {
			return fmt.Errorf("%s %s for %s/%s is already published with other contents; publish a new version instead", p.Product, p.Version, p.OS, p.Arch)
		}
	}
	var notes []byte
	if p.Control.Notes != nil {
		st := api.NotesStatement{Product: p.Product, Version: p.Version, Notes: p.Control.Notes, PublishedAt: published}
		payload, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if notes, err = json.Marshal(api.Sign(api.PayloadNotes, payload, a.Keys.Release)); err != nil {
			return err
		}
		// The latest answer carries the notes inside its own signed
		// payload: keep them to a third of what an answer may be.
		if len(notes) > api.MaxEnvelopeSize/3 {
			return fmt.Errorf("the release notes take %d bytes once signed and encoded, more than %d; shorten them (link to a longer page)", len(notes), api.MaxEnvelopeSize/3)
		}
	}
	who := p.Control.Actor
	if who.Name == "" {
		who = a.by(Local("aktuald"), "")
	}
	_, err = a.Store.ChangeReleaseControl(ctx, p.Product, p.Version, "release.publish", who, func(c *store.ReleaseControl) error {
		if err := keepsRequirement(*c, p); err != nil {
			return err
		}
		return applyControl(c, p.Control, notes)
	})
	return err
}

// Control is a published version's control, as staff see it.
type Control = store.ReleaseControl

// Rollout sets how far a staged rollout of product's version reaches
// (0 to 100 percent), for reason.
func (a *Admin) Rollout(ctx context.Context, c Caller, product, version string, percent int, reason string) (Control, error) {
	if percent < 0 || percent > 100 {
		return Control{}, invalid("the rollout must be 0 to 100 percent, not %d", percent)
	}
	return a.changeControl(ctx, c, product, version, "release.rollout", reason, func(ctl *store.ReleaseControl) error {
		if ctl.State == store.ControlYanked {
			return invalid("%s %s was withdrawn for good; publish a new version instead", product, version)
		}
		ctl.Percent = percent
		return nil
	})
}

// Halt stops offering product's version at once (every replica reads it
// within seconds; no update to it is reserved from now on), for reason.
func (a *Admin) Halt(ctx context.Context, c Caller, product, version, reason string) (Control, error) {
	return a.changeControl(ctx, c, product, version, "release.halt", reason, func(ctl *store.ReleaseControl) error {
		if ctl.State == store.ControlYanked {
			return invalid("%s %s was withdrawn for good; there is nothing to halt", product, version)
		}
		ctl.State = store.ControlHalted
		return nil
	})
}

// Resume offers a halted version again, as far as its rollout reached.
// A release the automatic brake halted has its brake disarmed: staff
// looked and decided, and the same first installations would pull it
// again at the next report.
func (a *Admin) Resume(ctx context.Context, c Caller, product, version, reason string) (Control, error) {
	return a.changeControl(ctx, c, product, version, "release.resume", reason, func(ctl *store.ReleaseControl) error {
		if ctl.State == store.ControlYanked {
			return invalid("%s %s was withdrawn for good and cannot be resumed; publish a new version instead", product, version)
		}
		if ctl.State == store.ControlHalted && ctl.ChangedBy == store.ActorBrake {
			ctl.BrakeAfter = 0
		}
		ctl.State = store.ControlLive
		return nil
	})
}

// changeControl checks the caller and that the version is published, then
// changes its control.
func (a *Admin) changeControl(ctx context.Context, c Caller, product, version, action, reason string,
	change func(*store.ReleaseControl) error) (Control, error) {
	if err := c.allow(staff.ActControlReleases); err != nil {
		return Control{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return Control{}, invalid("a reason is required (--reason, or the form's reason field): the audit log and the release's status show it")
	}
	if _, err := a.platforms(ctx, product, version); err != nil {
		return Control{}, err
	}
	defer a.Changes.Changed()
	ctl, err := a.Store.ChangeReleaseControl(ctx, product, version, action, a.by(c, reason), change)
	if errors.Is(err, store.ErrControl) {
		return Control{}, invalid("%v", err)
	}
	return ctl, err
}

// platforms lists the releases of product's version (every platform):
// refused when none is published.
func (a *Admin) platforms(ctx context.Context, product, version string) ([]store.Release, error) {
	if !api.ValidName(product) || !api.ValidVersion(version) {
		return nil, invalid("give --product and --version of a published release (e.g. --product ledger --version 2.1.0)")
	}
	all, err := a.Store.AllReleases(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Release
	for _, r := range all {
		if r.Product == product && api.CompareVersions(r.Version, version) == 0 {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, markKind(store.ErrNotFound, i18n.Errorf("%s %s is not published; aktuald release status --product %s lists what is", product, version, product))
	}
	return out, nil
}

// resignNotes signs anew, with the active release key, the release notes
// no key kept by keep signed (ResignReleases does the releases): notes a
// revoked key signed would no longer be shown.
func (a *Admin) resignNotes(ctx context.Context, products map[string]bool, keep func(keyID string) bool) (int, error) {
	n := 0
	for product := range products {
		cs, err := a.Store.ReleaseControls(ctx, product)
		if err != nil {
			return n, err
		}
		for _, c := range cs {
			if c.Notes == nil {
				continue
			}
			var env api.Envelope
			if err := json.Unmarshal(c.Notes, &env); err != nil {
				return n, fmt.Errorf("the release notes of %s %s: %w", product, c.Version, err)
			}
			if slices.ContainsFunc(env.Signatures, func(s api.Signature) bool { return keep(s.KeyID) }) {
				continue
			}
			if _, err := env.Verify(api.PayloadNotes, a.Keys.KeySet.ReleaseKeys); err != nil {
				return n, fmt.Errorf("the release notes of %s %s: %w; not re-signed", product, c.Version, err)
			}
			data, err := json.Marshal(api.Sign(api.PayloadNotes, env.Payload, a.Keys.Release))
			if err != nil {
				return n, err
			}
			if _, err := a.Store.ChangeReleaseControl(ctx, product, c.Version, "release.resign-notes", a.by(Local("aktuald"), "release key rotated"),
				func(c *store.ReleaseControl) error { c.Notes = data; return nil }); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
