package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/patches"
	"github.com/aktual/aktual/server/store"
)

// PublishParams describe a release to publish.
type PublishParams struct {
	Product, Series, Version, OS, Arch string
	File                               io.Reader
	// HealthCheck: the arguments the installed program is run with to
	// prove it starts; nil: none. AutoHealthCheck chooses instead:
	// DefaultHealthCheck for a program, none for a data file.
	HealthCheck     []string
	AutoHealthCheck bool
	// DowngradeFrom: the newer versions this release replaces (staff
	// withdrew them); they are no longer offered, and clients that have
	// them may move back to this one. Signed into the release.
	DowngradeFrom []string
	// URL, when set, is an external origin or CDN that serves the
	// release's bytes: they are not stored here, and clients asking this
	// server for the artifact are redirected there. File may be nil (the
	// origin's bytes are the release) or the same bytes (checked).
	URL string
	// OnPatch, when set, hears what became of each delta patch made to
	// the new release (patches.go). A patch that fails never fails the
	// publish. Releases at a URL get no patches.
	OnPatch func(patches.Result)
	// Control says how the version is offered (channels, staged rollout,
	// critical, a required version, the brake, the release notes):
	// control.go.
	Control ControlParams
}

// Publish stores the artifact, signs the release with the release key and
// records it.
func (a *Admin) Publish(ctx context.Context, p PublishParams) (api.ReleaseStatement, error) {
	defer a.Changes.Changed() // after its patches too
	if err := a.checkPublish(ctx, &p); err != nil {
		return api.ReleaseStatement{}, err
	}
	if p.URL != "" {
		return a.publishAtOrigin(ctx, p)
	}
	file, err := readHead(&p, p.File)
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	sum, size, err := a.Blobs.Put(file)
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	st, err := a.publishStored(ctx, p, sum, size, nil)
	if err != nil {
		// A refused publish leaves no file behind, unless another
		// release names the same bytes.
		if used, herr := a.Store.HasArtifact(ctx, sum); herr == nil && !used {
			_ = a.Blobs.Remove(sum) // a leftover blob is unused space, never served: only what a release names is
		}
		return st, err
	}
	a.patchMaker().ToNew(ctx, st, p.OnPatch)
	return st, nil
}

// checkPublish refuses what no release may be, files and folders alike,
// and carries earlier withdrawals forward into p.
func (a *Admin) checkPublish(ctx context.Context, p *PublishParams) error {
	switch {
	case !api.ValidName(p.Product):
		return errors.New("--product must be a name of letters, digits, '.', '_' or '-'")
	case !api.ValidSeries(p.Series):
		return errors.New("--series must be pro or classic")
	case !api.ValidName(p.OS) || !api.ValidName(p.Arch):
		return errors.New("--os and --arch are required (e.g. --os linux --arch amd64)")
	}
	if err := api.CheckVersion(p.Version); err != nil {
		return err
	}
	if series, err := a.Store.ProductSeries(ctx, p.Product); err == nil && series != p.Series {
		return fmt.Errorf("%s is published as a %s-series product; publish it with --series %s", p.Product, series, series)
	}
	for _, v := range p.DowngradeFrom {
		if err := api.CheckVersion(v); err != nil {
			return fmt.Errorf("--downgrade-from: %w", err)
		}
		if api.CompareVersions(v, p.Version) <= 0 {
			return fmt.Errorf("--downgrade-from %s is not newer than %s: a downgrade replaces newer versions", v, p.Version)
		}
	}
	if len(p.HealthCheck) > maxHealthArgs {
		return fmt.Errorf("--health-check takes at most %d arguments", maxHealthArgs)
	}
	if err := a.checkControl(ctx, *p); err != nil {
		return err
	}
	// A withdrawal carries forward: a release below a withdrawn version
	// replaces it too, or clients that were offered the withdrawn version
	// would refuse the fix as a rollback, and its installations would
	// never move off it.
	return a.carryWithdrawals(ctx, p)
}

func (a *Admin) carryWithdrawals(ctx context.Context, p *PublishParams) error {
	rs, err := a.Store.Releases(ctx, p.Product, p.OS, p.Arch)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, v := range p.DowngradeFrom {
		have[api.CanonicalVersion(v)] = true
	}
	for _, r := range rs {
		for _, v := range store.DowngradeFrom(r) {
			if !have[api.CanonicalVersion(v)] && api.CompareVersions(v, p.Version) > 0 {
				have[api.CanonicalVersion(v)] = true
				p.DowngradeFrom = append(p.DowngradeFrom, v)
			}
		}
	}
	return nil
}

// publishStored signs and records a release whose file is in the blobs:
// for a folder (m not nil), the file is its manifest, and the release
// names its files too.
func (a *Admin) publishStored(ctx context.Context, p PublishParams, sum string, size int64, m *api.Manifest) (api.ReleaseStatement, error) {
	if size == 0 {
		return api.ReleaseStatement{}, errors.New("the release file is empty")
	}
	st := api.ReleaseStatement{
		Product: p.Product, Series: p.Series, Version: p.Version, OS: p.OS, Arch: p.Arch,
		SHA256: sum, Size: size, PublishedAt: a.Now.UTC().Truncate(time.Second),
		HealthCheck: p.HealthCheck, DowngradeFrom: p.DowngradeFrom,
	}
	var files []string
	if m != nil {
		st.Kind, st.Files, st.TotalSize = api.KindFolder, len(m.Files), m.TotalSize()
		files = distinctSums(m)
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	env, err := json.Marshal(api.Sign(api.PayloadRelease, payload, a.Keys.Release))
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	if err := a.recordControl(ctx, p, st.SHA256, st.PublishedAt); err != nil {
		return api.ReleaseStatement{}, err
	}
	err = a.Store.PutRelease(ctx, store.Release{
		Product: st.Product, Series: st.Series, Version: st.Version, OS: st.OS, Arch: st.Arch,
		SHA256: st.SHA256, Size: st.Size, Envelope: env, PublishedAt: st.PublishedAt, URL: p.URL, Files: files,
	})
	if errors.Is(err, store.ErrConflict) {
		return api.ReleaseStatement{}, fmt.Errorf("%s %s for %s/%s is already published with other contents; publish a new version instead", p.Product, p.Version, p.OS, p.Arch)
	} else if err != nil {
		return api.ReleaseStatement{}, err
	}
	return st, nil
}

// ResignReleases signs anew, with the active release key, every release
// whose envelope carries no signature by a key the key set still lists
// (after keeping is false for the key being revoked), and the release
// notes alike (control.go): what a revoked key signed stays installable
// and shown. It returns how many envelopes were re-signed.
func (a *Admin) ResignReleases(ctx context.Context, keep func(keyID string) bool) (int, error) {
	defer a.Changes.Changed()
	all, err := a.Store.AllReleases(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	products := map[string]bool{}
	for _, r := range all {
		products[r.Product] = true
		var env api.Envelope
		if err := json.Unmarshal(r.Envelope, &env); err != nil {
			return n, fmt.Errorf("release %s %s for %s/%s: stored envelope: %w", r.Product, r.Version, r.OS, r.Arch, err)
		}
		ok := false
		for _, sig := range env.Signatures {
			ok = ok || keep(sig.KeyID)
		}
		if ok {
			continue
		}
		// The statement is verified before it is signed again: a stored
		// envelope is re-signed only if a key we trust did sign it.
		if _, err := env.Verify(api.PayloadRelease, a.Keys.KeySet.ReleaseKeys); err != nil {
			return n, fmt.Errorf("release %s %s for %s/%s: %w; not re-signed", r.Product, r.Version, r.OS, r.Arch, err)
		}
		data, err := json.Marshal(api.Sign(api.PayloadRelease, env.Payload, a.Keys.Release))
		if err != nil {
			return n, err
		}
		if err := a.Store.ResignRelease(ctx, r.Product, r.Version, r.OS, r.Arch, data); err != nil {
			return n, err
		}
		n++
	}
	notes, err := a.resignNotes(ctx, products, keep)
	return n + notes, err
}
