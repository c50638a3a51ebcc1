package updater

import (
	"context"
	"errors"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/updater/internal/fetch"
)

// Entitlement asks the server how many paid updates cred (an update code)
// has left for product, reserving nothing: for aktual check. An update of
// product would use one of Remaining; 0 means none is left. A code the
// server refuses is ErrCredentialRejected, as it would be for an update;
// a mistyped one is refused before anything is sent.
func (u *Updater) Entitlement(ctx context.Context, product string, cred api.Credential) (*api.EntitlementStatus, error) {
	if product == "" {
		return nil, fail(ErrUsage, nil, "--product is required: the product's name as the vendor publishes it")
	}
	if cred.Code != "" {
		if _, err := api.ParseCode(cred.Code); err != nil {
			return nil, fail(ErrCredentialRejected, err, "%v", err)
		}
	}
	return u.queryEntitlement(ctx, product, cred)
}

// KeyEntitlement is Entitlement for a hardware key (the classic series):
// the key signs a fresh server challenge to prove it is present, as it
// does to open a session, and nothing is opened or reserved.
func (u *Updater) KeyEntitlement(ctx context.Context, product string, key hwkey.Key) (*api.EntitlementStatus, error) {
	cred, err := u.KeyProof(ctx, product, key)
	if err != nil {
		return nil, err
	}
	return u.queryEntitlement(ctx, product, cred)
}

// KeyProof is a hardware key's credential for a query or a first
// install: the key signs a fresh server challenge to prove it is present.
func (u *Updater) KeyProof(ctx context.Context, product string, key hwkey.Key) (api.Credential, error) {
	if product == "" {
		return api.Credential{}, fail(ErrUsage, nil, "--product is required: the product's name as the vendor publishes it")
	}
	if err := key.Licence().Check(u.Now.Now(), product); err != nil {
		return api.Credential{}, fail(ErrCredentialRejected, err, "%v (the licence is in %s)", err, key.Source())
	}
	var ch api.ChallengeResponse
	if err := u.callJSON(ctx, "POST", "/v1/classic/challenges", nil, struct{}{}, &ch); err != nil {
		return api.Credential{}, entitlementError(err)
	}
	sig, err := key.Sign(ctx, ch.Challenge)
	if err != nil {
		return api.Credential{}, fail(ErrCredentialRejected, err, "the hardware key could not sign the server's challenge (%v); reconnect the key and try again", err)
	}
	return api.Credential{HWKey: &api.HWKeyProof{Licence: key.Envelope(), Challenge: ch.Challenge, Signature: sig}}, nil
}

func (u *Updater) queryEntitlement(ctx context.Context, product string, cred api.Credential) (*api.EntitlementStatus, error) {
	var st api.EntitlementStatus
	err := u.callJSON(ctx, "POST", "/v1/entitlements/query", nil, api.EntitlementQuery{Credential: cred, Product: product}, &st)
	if err != nil {
		return nil, entitlementError(err)
	}
	if st.Product != product || st.Remaining < 0 || st.Held < 0 {
		return nil, fail(ErrVerification, nil, "the server's answer about the updates left for %s does not make sense; is %s an aktual server?", product, u.Server)
	}
	return &st, nil
}

// entitlementError maps a refused query as credentialError does, and a
// server that fails (5xx) to a connection problem: try again later.
func entitlementError(err error) error {
	var ae *fetch.APIError
	if errors.As(err, &ae) && ae.Status >= 500 {
		return fail(ErrNoConnection, err, "the server could not say how many updates remain (%d %s); try again later", ae.Status, ae.Code)
	}
	return credentialError(err)
}
