package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Admin is what vendor staff do: activate updates, look at counts, audit,
// publish releases. The aktuald CLI is a thin shell over it.
type Admin struct {
	Store store.Store
	Blobs Blobs
	Keys  *Keys
	Now   func() time.Time
	// HTTPClient fetches a release from its origin (PublishParams.URL);
	// nil: one with generous timeouts and the environment's proxy.
	HTTPClient *http.Client
	// Patches says which delta patches Publish and MakePatches make
	// (patches.go); the zero value takes the defaults.
	Patches PatchPolicy
	// catalog tells the Server of the same Instance that what its latest
	// answers say may have changed (latest_cache.go).
	catalog *catalogChanges
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// Activation is the outcome of an activation. Code is set only when a new
// update code was made: an existing code is stored only as a hash and can
// never be shown again.
type Activation struct {
	Customer    string `json:"customer"`
	Series      string `json:"series"`
	Code        string `json:"code,omitempty"`
	CodeHint    string `json:"code_hint,omitempty"`
	HWKeySerial string `json:"hwkey,omitempty"`
	Created     bool   `json:"created"`
	Added       int64  `json:"added"`
	Counts
}

// Counts are an entitlement's numbers.
type Counts struct {
	Purchased int64 `json:"purchased"`
	Remaining int64 `json:"remaining"`
	Held      int64 `json:"held"`
	Consumed  int64 `json:"consumed"`
	Overdraft int64 `json:"overdraft"`
}

func countsOf(e store.Entitlement) Counts {
	return Counts{Purchased: e.Purchased, Remaining: e.Remaining, Held: e.Held, Consumed: e.Consumed, Overdraft: e.Overdraft}
}

// maxActivation bounds one activation: a typo of a few extra zeros should
// not grant a million updates.
const maxActivation = 10000

func checkActivation(customer string, updates int64) error {
	if strings.TrimSpace(customer) == "" || len(customer) > 200 {
		return errors.New("--customer is required: the customer's name (up to 200 characters)")
	}
	if updates < 1 || updates > maxActivation {
		return fmt.Errorf("--updates must be between 1 and %d", maxActivation)
	}
	return nil
}

// ActivatePro gives customer n more Pro-series updates: a new update code
// the first time, more updates on the existing code after that.
func (a *Admin) ActivatePro(ctx context.Context, customer string, n int64) (Activation, error) {
	if err := checkActivation(customer, n); err != nil {
		return Activation{}, err
	}
	code, err := api.NewCode()
	if err != nil {
		return Activation{}, err
	}
	ent, created, err := a.Store.Activate(ctx, store.ActivateParams{
		Customer:   customer,
		Series:     api.SeriesPro,
		Credential: store.Credential{CodeHash: CodeHash(a.Keys.CodeSecret, code)},
		CodeHint:   code.LastGroup(),
		Updates:    n,
		Now:        a.now(),
	})
	if err != nil {
		return Activation{}, fmt.Errorf("activating: %w", err)
	}
	act := Activation{Customer: ent.Customer, Series: ent.Series, CodeHint: ent.CodeHint, Created: created, Added: n, Counts: countsOf(ent)}
	if created {
		act.Code = code.String()
	}
	return act, nil
}

// ActivateClassic enables site access for a hardware key with n updates
// (or adds n to it).
func (a *Admin) ActivateClassic(ctx context.Context, customer, serial string, n int64) (Activation, error) {
	if err := checkActivation(customer, n); err != nil {
		return Activation{}, err
	}
	if !ValidName(serial) {
		return Activation{}, errors.New("--hwkey must be the key's serial (letters, digits, '.', '_' or '-')")
	}
	ent, created, err := a.Store.Activate(ctx, store.ActivateParams{
		Customer:   customer,
		Series:     api.SeriesClassic,
		Credential: store.Credential{HWKeySerial: serial},
		Updates:    n,
		Now:        a.now(),
	})
	if errors.Is(err, store.ErrConflict) {
		return Activation{}, fmt.Errorf("hardware key %s belongs to another customer; check the serial", serial)
	} else if err != nil {
		return Activation{}, fmt.Errorf("activating: %w", err)
	}
	return Activation{Customer: ent.Customer, Series: ent.Series, HWKeySerial: serial, Created: created, Added: n, Counts: countsOf(ent)}, nil
}

// Standing is what `admin show` prints.
type Standing struct {
	Customer    string `json:"customer"`
	Series      string `json:"series"`
	CodeHint    string `json:"code_hint,omitempty"`
	HWKeySerial string `json:"hwkey,omitempty"`
	Active      bool   `json:"active"`
	Counts
}

// ShowCode returns the standing of an update code.
func (a *Admin) ShowCode(ctx context.Context, typed string) (Standing, error) {
	code, err := api.ParseCode(typed)
	if err != nil {
		return Standing{}, err
	}
	return a.show(ctx, store.Credential{CodeHash: CodeHash(a.Keys.CodeSecret, code)})
}

// ShowHWKey returns the standing of a hardware key.
func (a *Admin) ShowHWKey(ctx context.Context, serial string) (Standing, error) {
	return a.show(ctx, store.Credential{HWKeySerial: serial})
}

func (a *Admin) show(ctx context.Context, c store.Credential) (Standing, error) {
	e, err := a.Store.Entitlement(ctx, c)
	if errors.Is(err, store.ErrUnknownCredential) {
		return Standing{}, errors.New("no entitlement has this credential; check it, or activate it first")
	} else if err != nil {
		return Standing{}, err
	}
	return Standing{Customer: e.Customer, Series: e.Series, CodeHint: e.CodeHint, HWKeySerial: e.HWKeySerial, Active: e.Active, Counts: countsOf(e)}, nil
}

// AuditReport is the outcome of an audit.
type AuditReport struct {
	Entitlements int               `json:"entitlements"`
	Violations   []store.Violation `json:"violations"`
}

// OK reports whether the audit found nothing wrong.
func (r AuditReport) OK() bool { return len(r.Violations) == 0 }

// Audit checks the ledger invariant over every entitlement.
func (a *Admin) Audit(ctx context.Context) (AuditReport, error) {
	all, err := a.Store.Entitlements(ctx)
	if err != nil {
		return AuditReport{}, err
	}
	v, err := a.Store.Audit(ctx)
	if err != nil {
		return AuditReport{}, err
	}
	if v == nil {
		v = []store.Violation{}
	}
	return AuditReport{Entitlements: len(all), Violations: v}, nil
}

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
	OnPatch func(PatchResult)
}

// Publish stores the artifact, signs the release with the release key and
// records it.
func (a *Admin) Publish(ctx context.Context, p PublishParams) (api.ReleaseStatement, error) {
	defer a.catalog.changed() // after its patches too
	switch {
	case !ValidName(p.Product):
		return api.ReleaseStatement{}, errors.New("--product must be a name of letters, digits, '.', '_' or '-'")
	case !api.ValidSeries(p.Series):
		return api.ReleaseStatement{}, errors.New("--series must be pro or classic")
	case !ValidName(p.OS) || !ValidName(p.Arch):
		return api.ReleaseStatement{}, errors.New("--os and --arch are required (e.g. --os linux --arch amd64)")
	}
	if err := api.CheckVersion(p.Version); err != nil {
		return api.ReleaseStatement{}, err
	}
	if series, err := a.Store.ProductSeries(ctx, p.Product); err == nil && series != p.Series {
		return api.ReleaseStatement{}, fmt.Errorf("%s is published as a %s-series product; publish it with --series %s", p.Product, series, series)
	}
	for _, v := range p.DowngradeFrom {
		if err := api.CheckVersion(v); err != nil {
			return api.ReleaseStatement{}, fmt.Errorf("--downgrade-from: %w", err)
		}
		if api.CompareVersions(v, p.Version) <= 0 {
			return api.ReleaseStatement{}, fmt.Errorf("--downgrade-from %s is not newer than %s: a downgrade replaces newer versions", v, p.Version)
		}
	}
	if len(p.HealthCheck) > maxHealthArgs {
		return api.ReleaseStatement{}, fmt.Errorf("--health-check takes at most %d arguments", maxHealthArgs)
	}
	// A withdrawal carries forward: a release below a withdrawn version
	// replaces it too, or clients that were offered the withdrawn version
	// would refuse the fix as a rollback, and its installations would
	// never move off it.
	if err := a.carryWithdrawals(ctx, &p); err != nil {
		return api.ReleaseStatement{}, err
	}
	if p.URL != "" {
		return a.publishAtOrigin(ctx, p)
	}
	head, file, err := peekHead(p.File)
	if err != nil {
		return api.ReleaseStatement{}, fmt.Errorf("reading the release file: %w", err)
	}
	if p.AutoHealthCheck {
		p.HealthCheck = nil
		if LooksExecutable(head) {
			p.HealthCheck = DefaultHealthCheck
		}
	}
	sum, size, err := a.Blobs.Put(file)
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	st, err := a.publishStored(ctx, p, sum, size)
	if err != nil {
		// A refused publish leaves no file behind, unless another
		// release names the same bytes.
		if used, herr := a.Store.HasArtifact(ctx, sum); herr == nil && !used {
			_ = a.Blobs.Remove(sum)
		}
		return st, err
	}
	a.patchNew(ctx, st, p.OnPatch)
	return st, nil
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
		for _, v := range downgradeFrom(r) {
			if !have[api.CanonicalVersion(v)] && api.CompareVersions(v, p.Version) > 0 {
				have[api.CanonicalVersion(v)] = true
				p.DowngradeFrom = append(p.DowngradeFrom, v)
			}
		}
	}
	return nil
}

// publishStored signs and records a release whose file is in the blobs.
func (a *Admin) publishStored(ctx context.Context, p PublishParams, sum string, size int64) (api.ReleaseStatement, error) {
	if size == 0 {
		return api.ReleaseStatement{}, errors.New("the release file is empty")
	}
	st := api.ReleaseStatement{
		Product: p.Product, Series: p.Series, Version: p.Version, OS: p.OS, Arch: p.Arch,
		SHA256: sum, Size: size, PublishedAt: a.now().Truncate(time.Second),
		HealthCheck: p.HealthCheck, DowngradeFrom: p.DowngradeFrom,
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	env, err := json.Marshal(api.Sign(api.PayloadRelease, payload, a.Keys.Release))
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	err = a.Store.PutRelease(ctx, store.Release{
		Product: st.Product, Series: st.Series, Version: st.Version, OS: st.OS, Arch: st.Arch,
		SHA256: st.SHA256, Size: st.Size, Envelope: env, PublishedAt: st.PublishedAt, URL: p.URL,
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
// (after keeping is false for the key being revoked): what a revoked key
// signed stays installable. It returns how many were re-signed.
func (a *Admin) ResignReleases(ctx context.Context, keep func(keyID string) bool) (int, error) {
	defer a.catalog.changed()
	all, err := a.Store.AllReleases(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range all {
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
	return n, nil
}
