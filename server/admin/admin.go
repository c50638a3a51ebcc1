// Package admin is what vendor staff do on the server: activate updates,
// look at counts, audit the ledger, publish and re-sign releases. The
// aktuald CLI is a thin shell over it.
package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/server/blobs"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/patches"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// Admin is what vendor staff do: activate updates, look at counts, audit,
// publish releases. The aktuald CLI is a thin shell over it.
type Admin struct {
	Store store.Store
	Blobs blobs.Blobs
	Keys  *keyring.Keys
	Now   clock.Func
	// HTTPClient fetches a release from its origin (PublishParams.URL);
	// nil: one with generous timeouts and the environment's proxy.
	HTTPClient *http.Client
	// Patches says which delta patches Publish and MakePatches make;
	// the zero value takes the defaults.
	Patches patches.Policy
	// Changes tells the Server of the same Instance that what its
	// latest answers say may have changed.
	Changes *datadir.Changes
	// Throttle limits failed staff sign-ins (the zero value: the
	// defaults), counted in the store so that it holds across replicas.
	Throttle staff.Throttle
}

// New returns the admin service over an opened data folder.
func New(in *datadir.Instance) *Admin {
	return &Admin{Store: in.Store, Blobs: in.Blobs, Keys: in.Keys, Changes: in.Changes}
}

func (a *Admin) origin() blobs.Origin { return blobs.Origin{Client: a.HTTPClient} }

func (a *Admin) patchMaker() *patches.Maker {
	return &patches.Maker{Store: a.Store, Blobs: a.Blobs, Origin: a.origin(), Policy: a.Patches}
}

// MakePatches makes the missing patches to the newest release of product
// on each of its platforms (patches.Maker.Make).
func (a *Admin) MakePatches(ctx context.Context, product string, onPatch func(patches.Result)) ([]patches.Result, error) {
	defer a.Changes.Changed() // the latest answers may offer them now
	return a.patchMaker().Make(ctx, product, onPatch)
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

// ActivatePro gives customer n more Pro-series updates as the server's
// shell: a new update code the first time, more updates on the existing
// code after that.
func (a *Admin) ActivatePro(ctx context.Context, customer string, n int64) (Activation, error) {
	out, err := a.Activate(ctx, Local("admin"), ActivateRequest{Customer: customer, Series: api.SeriesPro, Updates: n})
	return out.Activation, err
}

// ActivateClassic enables site access for a hardware key with n updates
// (or adds n to it), as the server's shell.
func (a *Admin) ActivateClassic(ctx context.Context, customer, serial string, n int64) (Activation, error) {
	out, err := a.Activate(ctx, Local("admin"), ActivateRequest{Customer: customer, Series: api.SeriesClassic, HWKey: serial, Updates: n})
	return out.Activation, err
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
	return a.show(ctx, store.Credential{CodeHash: keyring.CodeHash(a.Keys.CodeSecret, code)})
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
	// Counted in the audit's own snapshot, and without listing every
	// entitlement: memory stays flat with a million of them (issue 21).
	n, v, err := a.Store.AuditCounted(ctx)
	if err != nil {
		return AuditReport{}, err
	}
	if v == nil {
		v = []store.Violation{}
	}
	return AuditReport{Entitlements: n, Violations: v}, nil
}
