package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// ActivateRequest is an activation by staff: a new customer's first
// updates (a new code, or a hardware key's access), or more for one they
// hold. IdempotencyKey, the vendor's invoice number, makes a retried
// request add the updates once.
type ActivateRequest struct {
	Customer       string `json:"customer"`
	Series         string `json:"series"`
	Updates        int64  `json:"updates"`
	HWKey          string `json:"hwkey,omitempty"`
	Distributor    string `json:"distributor,omitempty"`
	VAT            string `json:"vat,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// Outcome is what an activation or addition did, as the API answers it.
type Outcome struct {
	Activation
	EntitlementID int64 `json:"entitlement_id"`
	// Replayed: an earlier request with the same idempotency key made
	// this activation; nothing was added now. The code is shown again
	// only within codeReplayWindow of the first request.
	Replayed bool `json:"replayed"`
}

// codeReplayWindow is how long a retried activation may show the new code
// again: long enough for a payment system's retries, short enough that an
// old invoice number is not a way to read a code back.
const codeReplayWindow = 24 * time.Hour

const maxReason = 500

func checkText(field, s string, max int) error {
	if len(s) > max {
		return invalid("%s is too long: at most %d characters", field, max)
	}
	return nil
}

func (r *ActivateRequest) check(c Caller) error {
	r.Customer, r.HWKey = strings.TrimSpace(r.Customer), strings.TrimSpace(r.HWKey)
	r.Distributor, r.VAT = strings.TrimSpace(r.Distributor), strings.TrimSpace(r.VAT)
	switch {
	case r.Customer == "" || len(r.Customer) > 200:
		return invalid("customer is required: the customer's name (up to 200 characters)")
	case r.Updates < 1 || r.Updates > maxActivation:
		return invalid("updates must be between 1 and %d", maxActivation)
	case r.Series == api.SeriesPro && r.HWKey != "":
		return invalid("hwkey is for the classic series; Pro-series updates get an update code")
	case r.Series == api.SeriesClassic && !api.ValidName(r.HWKey):
		return invalid("hwkey is required for the classic series: the key's serial (letters, digits, '.', '_' or '-')")
	case !api.ValidSeries(r.Series):
		return invalid("series must be pro or classic")
	}
	if c.Distributor != "" {
		if r.Distributor != "" && r.Distributor != c.Distributor {
			return markKind(ErrForbidden, i18n.Errorf("you activate for your own distributor (%s) only", c.Distributor))
		}
		r.Distributor = c.Distributor
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"distributor", r.Distributor, 200}, {"vat", r.VAT, 40}, {"idempotency_key", r.IdempotencyKey, 200}, {"reason", r.Reason, maxReason}} {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// scopedKey is an idempotency key in the caller's own namespace: a
// distributor's invoice numbers are its own (two distributors both have an
// invoice 2026-0001), the vendor's offices share theirs.
func scopedKey(c Caller, key string) string {
	if key == "" {
		return ""
	}
	if c.Distributor != "" {
		return "distributor:" + c.Distributor + ":" + key
	}
	return "office:" + key
}

// requestHash is what makes two requests with one idempotency key the
// same request.
func requestHash(parts ...any) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%q", parts))
	return hex.EncodeToString(h[:])
}

// Activate gives a customer paid updates (see ActivateRequest).
func (a *Admin) Activate(ctx context.Context, c Caller, r ActivateRequest) (Outcome, error) {
	if err := c.allow(staff.ActActivate); err != nil {
		return Outcome{}, err
	}
	if err := r.check(c); err != nil {
		return Outcome{}, err
	}
	if r.Distributor != "" && c.Distributor == "" {
		if err := a.knownDistributor(ctx, r.Distributor); err != nil {
			return Outcome{}, err
		}
	}
	code, err := api.NewCode()
	if err != nil {
		return Outcome{}, err
	}
	p := store.ActivateStaffParams{
		ActivateParams: store.ActivateParams{Customer: r.Customer, Series: r.Series, Updates: r.Updates, Now: a.Now.UTC()},
		Actor:          a.by(c, r.Reason), Distributor: r.Distributor, VAT: r.VAT, IdempotencyKey: scopedKey(c, r.IdempotencyKey),
		RequestHash: requestHash("activate", r.Customer, r.Series, r.Updates, r.HWKey, r.Distributor),
	}
	if r.Series == api.SeriesPro {
		p.Credential = store.Credential{CodeHash: keyring.CodeHash(a.Keys.CodeSecret, code)}
		p.CodeHint = code.LastGroup()
		if p.Sealed, err = a.sealCode(code.String()); err != nil {
			return Outcome{}, err
		}
		return a.activate(ctx, c, p, r.IdempotencyKey, code.String())
	}
	p.Credential = store.Credential{HWKeySerial: r.HWKey}
	return a.activate(ctx, c, p, r.IdempotencyKey, "")
}

func (a *Admin) knownDistributor(ctx context.Context, name string) error {
	all, err := a.Store.Distributors(ctx)
	if err != nil {
		return fmt.Errorf("listing distributors: %w", err)
	}
	for _, d := range all {
		if d == name {
			return nil
		}
	}
	return invalid("no distributor %q; an admin adds it first (aktuald staff distributor add, or the console)", name)
}

// activate makes an activation; key is the idempotency key as the caller
// gave it (p's is scoped), code the new code p's hash is of ("" for a
// classic one), shown when the activation created the entitlement.
func (a *Admin) activate(ctx context.Context, c Caller, p store.ActivateStaffParams, key, code string) (Outcome, error) {
	out, err := a.Store.ActivateStaff(ctx, p)
	switch {
	case errors.Is(err, store.ErrIdempotencyMismatch):
		return Outcome{}, markKind(store.ErrIdempotencyMismatch, i18n.Errorf("idempotency key %q was used for another request; use a new key for a new request",
			key))
	case errors.Is(err, store.ErrConflict) && p.Series == api.SeriesClassic:
		return Outcome{}, markKind(store.ErrConflict, i18n.Errorf("hardware key %s belongs to another customer, or %s is a customer of another distributor; check the serial and the name",
			p.Credential.HWKeySerial, p.Customer))
	case errors.Is(err, store.ErrConflict):
		return Outcome{}, markKind(store.ErrConflict, i18n.Errorf("the name %q is taken by a customer of another distributor; tell them apart (add the town or VAT number to the name)",
			p.Customer))
	case err != nil:
		return Outcome{}, fmt.Errorf("activating: %w", err)
	}
	e := out.Entitlement
	if out.Replayed {
		// The first request's customer may have moved out of the
		// caller's sight since: the replay says no more than a lookup.
		if _, err := a.entitlementFor(ctx, c, e.ID); err != nil {
			return Outcome{}, err
		}
	}
	o := Outcome{
		Activation: Activation{Customer: e.Customer, Series: e.Series, CodeHint: e.CodeHint, HWKeySerial: e.HWKeySerial,
			Created: out.Created, Added: out.Added, Counts: countsOf(e)},
		EntitlementID: e.ID, Replayed: out.Replayed,
	}
	switch {
	case out.Created && !out.Replayed:
		o.Code = code
	case out.Created && out.Sealed != nil && a.Now.UTC().Sub(out.At) < codeReplayWindow:
		if o.Code, err = a.openCode(out.Sealed); err != nil {
			return Outcome{}, err
		}
	}
	return o, nil
}

// AddRequest adds updates to a credential a customer holds.
type AddRequest struct {
	Updates        int64  `json:"updates"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// AddUpdates adds paid updates to entitlement id.
func (a *Admin) AddUpdates(ctx context.Context, c Caller, id int64, r AddRequest) (Outcome, error) {
	if err := c.allow(staff.ActAddUpdates); err != nil {
		return Outcome{}, err
	}
	if r.Updates < 1 || r.Updates > maxActivation {
		return Outcome{}, invalid("updates must be between 1 and %d", maxActivation)
	}
	if err := checkText("idempotency_key", r.IdempotencyKey, 200); err != nil {
		return Outcome{}, err
	}
	if err := checkText("reason", r.Reason, maxReason); err != nil {
		return Outcome{}, err
	}
	e, err := a.entitlementFor(ctx, c, id)
	if err != nil {
		return Outcome{}, err
	}
	cu, err := a.Store.Customer(ctx, e.Customer)
	if err != nil {
		return Outcome{}, fmt.Errorf("finding customer %q: %w", e.Customer, err)
	}
	p := store.ActivateStaffParams{
		ActivateParams: store.ActivateParams{Customer: e.Customer, Series: e.Series, Updates: r.Updates, Now: a.Now.UTC(), CodeHint: e.CodeHint},
		Actor:          a.by(c, r.Reason), Distributor: cu.Distributor, VAT: cu.VAT, IdempotencyKey: scopedKey(c, r.IdempotencyKey),
		RequestHash: requestHash("add", id, r.Updates),
	}
	if e.Series == api.SeriesPro {
		// The customer's code is found by name; this hash is never stored.
		p.Credential = store.Credential{CodeHash: make([]byte, 32)}
	} else {
		p.Credential = store.Credential{HWKeySerial: e.HWKeySerial}
	}
	return a.activate(ctx, c, p, r.IdempotencyKey, "")
}

// Suspend stops a credential working (a dispute, a stolen key) until it
// is reinstated; its counts stay.
func (a *Admin) Suspend(ctx context.Context, c Caller, id int64, reason string) (Credential, error) {
	return a.setActive(ctx, c, id, false, reason)
}

// Reinstate makes a suspended credential work again.
func (a *Admin) Reinstate(ctx context.Context, c Caller, id int64, reason string) (Credential, error) {
	return a.setActive(ctx, c, id, true, reason)
}

func (a *Admin) setActive(ctx context.Context, c Caller, id int64, active bool, reason string) (Credential, error) {
	if err := c.allow(staff.ActSuspend); err != nil {
		return Credential{}, err
	}
	if err := needReason(reason); err != nil {
		return Credential{}, err
	}
	if _, err := a.entitlementFor(ctx, c, id); err != nil {
		return Credential{}, err
	}
	e, err := a.Store.SetActive(ctx, id, active, a.by(c, reason))
	if err != nil {
		return Credential{}, fmt.Errorf("changing entitlement %d: %w", id, err)
	}
	return credentialOf(e), nil
}

func needReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return invalid("give the reason: it goes in the audit log")
	}
	return checkText("reason", reason, maxReason)
}

// ReplaceKey moves a classic-series licence to a new hardware key (the old
// one lost or broken): the old serial stops working at once.
func (a *Admin) ReplaceKey(ctx context.Context, c Caller, id int64, serial, reason string) (Credential, error) {
	if err := c.allow(staff.ActReplaceKey); err != nil {
		return Credential{}, err
	}
	if err := needReason(reason); err != nil {
		return Credential{}, err
	}
	serial = strings.TrimSpace(serial)
	if !api.ValidName(serial) {
		return Credential{}, invalid("hwkey must be the new key's serial (letters, digits, '.', '_' or '-')")
	}
	e, err := a.entitlementFor(ctx, c, id)
	if err != nil {
		return Credential{}, err
	}
	if e.Kind != store.KindHWKey {
		return Credential{}, invalid("entitlement %d is an update code, not a hardware key; reissue the code instead", id)
	}
	if e.HWKeySerial == serial {
		return Credential{}, invalid("the licence is already on hardware key %s", serial)
	}
	e, err = a.Store.ReplaceCredential(ctx, id, store.Credential{HWKeySerial: serial}, "", a.by(c, reason))
	if errors.Is(err, store.ErrConflict) {
		return Credential{}, markKind(store.ErrConflict, i18n.Errorf("hardware key %s already has a licence; check the serial", serial))
	} else if err != nil {
		return Credential{}, fmt.Errorf("replacing the key of entitlement %d: %w", id, err)
	}
	return credentialOf(e), nil
}

// Reissued is a reissued update code: shown this once.
type Reissued struct {
	Credential
	Code string `json:"code"`
}

// Reissue gives a Pro customer a new update code (the old one leaked): the
// old code stops working at once and the counts stay with the new one.
func (a *Admin) Reissue(ctx context.Context, c Caller, id int64, reason string) (Reissued, error) {
	if err := c.allow(staff.ActReissue); err != nil {
		return Reissued{}, err
	}
	if err := needReason(reason); err != nil {
		return Reissued{}, err
	}
	e, err := a.entitlementFor(ctx, c, id)
	if err != nil {
		return Reissued{}, err
	}
	if e.Kind != store.KindCode {
		return Reissued{}, invalid("entitlement %d is a hardware key, not an update code; replace the key instead", id)
	}
	code, err := api.NewCode()
	if err != nil {
		return Reissued{}, err
	}
	e, err = a.Store.ReplaceCredential(ctx, id, store.Credential{CodeHash: keyring.CodeHash(a.Keys.CodeSecret, code)}, code.LastGroup(), a.by(c, reason))
	if err != nil {
		return Reissued{}, fmt.Errorf("reissuing the code of entitlement %d: %w", id, err)
	}
	return Reissued{Credential: credentialOf(e), Code: code.String()}, nil
}

// Correct puts right a mistake in the counts with a compensating ledger
// entry (never an edit): n more (or, negative, fewer) purchased and
// remaining updates, for the reason given.
func (a *Admin) Correct(ctx context.Context, c Caller, id int64, n int64, reason string) (Credential, error) {
	if err := c.allow(staff.ActCorrect); err != nil {
		return Credential{}, err
	}
	if err := needReason(reason); err != nil {
		return Credential{}, err
	}
	if n == 0 || n < -maxActivation || n > maxActivation {
		return Credential{}, invalid("updates must be a change between -%d and %d, not 0", maxActivation, maxActivation)
	}
	if _, err := a.entitlementFor(ctx, c, id); err != nil {
		return Credential{}, err
	}
	e, err := a.Store.Correct(ctx, id, n, a.by(c, reason))
	if errors.Is(err, store.ErrWouldGoNegative) {
		return Credential{}, markKind(store.ErrWouldGoNegative, i18n.Errorf("entitlement %d has fewer remaining updates than %d; held and consumed updates cannot be taken back",
			id, -n))
	} else if err != nil {
		return Credential{}, fmt.Errorf("correcting entitlement %d: %w", id, err)
	}
	return credentialOf(e), nil
}
