package updater

import (
	"context"
	"errors"
	"os"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/fetch"
)

// SelfProduct is the product under which a vendor publishes aktual itself,
// on the same server and in the same signed catalogue as its programs.
const SelfProduct = "aktual"

// selfHealthCheck is how a new aktual proves it starts. A release's own
// health check is not used: publish's "auto" check (--version) is one
// aktual does not have, and every aktual has the version command.
var selfHealthCheck = []string{"version"}

// SelfRequest is an update of aktual itself.
type SelfRequest struct {
	// Executable is the aktual to update; default: the running one. Its
	// symlinks are followed, so the real file is replaced.
	Executable string
	// Version is the version compiled in: the fallback when neither the
	// server's catalogue nor an install record knows the executable's
	// contents. A development build's "dev" is no version.
	Version string
	// Confirm, when set, is asked after the check and before anything is
	// downloaded; false stops with ErrDeclined.
	Confirm func(ctx context.Context, p *Plan) (bool, error)
}

// SelfCheck says whether a newer aktual is published. It changes nothing.
func (u *Updater) SelfCheck(ctx context.Context, req SelfRequest) (*Plan, error) {
	creq, err := selfCheckRequest(req)
	if err != nil {
		return nil, err
	}
	plan, err := u.Check(ctx, creq)
	if err != nil {
		return nil, u.selfError(err, creq)
	}
	if err := refuseSelfDowngrade(plan); err != nil {
		return plan, err
	}
	return plan, nil
}

// SelfUpdate updates aktual itself like any product, with one difference:
// aktual is free, so nothing is reserved, completed or given back, and no
// credential is asked. Everything else is the same: the signed release
// (trusted keys, rollback and freeze protection, hash and size), the
// resumable download, the lock, the journal and the atomic swap, with the
// old aktual put back if the new one does not start. A downgrade is
// refused.
func (u *Updater) SelfUpdate(ctx context.Context, req SelfRequest) (*Result, error) {
	creq, err := selfCheckRequest(req)
	if err != nil {
		return nil, err
	}
	res, err := u.Update(ctx, Request{
		CheckRequest: creq,
		Confirm: func(ctx context.Context, p *Plan) (bool, error) {
			// Before anything is downloaded.
			if err := refuseSelfDowngrade(p); err != nil {
				return false, err
			}
			if req.Confirm == nil {
				return true, nil
			}
			return req.Confirm(ctx, p)
		},
		free: true,
	})
	if err != nil {
		err = u.selfError(err, creq)
	}
	return res, err
}

// selfCheckRequest is the check of the aktual at req.Executable (default:
// the running one), with the compiled-in version as the last resort.
func selfCheckRequest(req SelfRequest) (CheckRequest, error) {
	exe := req.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return CheckRequest{}, fail(nil, err, "cannot find the running aktual's file (%v); download aktual from your vendor instead", err)
		}
	}
	creq := CheckRequest{Product: SelfProduct, Target: exe}
	if api.ValidVersion(req.Version) {
		creq.FromVersion = req.Version
	}
	return creq, nil
}

// selfError says Check's failures that name update's flags (--product,
// --from-version) in self-update's terms.
func (u *Updater) selfError(err error, creq CheckRequest) error {
	var ae *fetch.APIError
	var e *Error
	switch {
	case errors.As(err, &ae) && ae.Code == api.CodeNotFound && errors.Is(err, ErrUsage):
		goos, arch := u.platform()
		return fail(ErrUsage, err, "the server at %s publishes no aktual for %s/%s, so aktual cannot update itself from it; ask your vendor for the new aktual", u.Server, goos, arch)
	case creq.FromVersion == "" && errors.As(err, &e) && errors.Is(err, ErrUsage) &&
		// Check's message when nothing tells the installed version
		// (TestSelfUpdateDevBuild keeps this in step with check.go).
		e.Msg.Format == "cannot tell which version of %s is at %s: its contents match no published release; check --target, or pass --from-version":
		return fail(ErrUsage, err, "this aktual is a development build that matches no published release of aktual, so it cannot tell whether a release is newer; install aktual from your vendor instead")
	}
	return err
}

// refuseSelfDowngrade refuses an older aktual, even one the vendor
// published to replace a withdrawn version: an installer that can be
// moved back can be moved back to one with a known flaw.
func refuseSelfDowngrade(p *Plan) error {
	if !p.Downgrade {
		return nil
	}
	return fail(ErrVerification, nil,
		"the server offers aktual %s in place of the installed %s, which the vendor withdrew; aktual never updates itself to an older version: to go back, install aktual %s from your vendor; nothing was installed",
		p.Latest.Version, p.From, p.Latest.Version)
}

// applySelf installs a verified aktual: journaled like any update, so a
// crash is finished or undone the same way, but free (Journal.Free):
// report, abandon and recovery then reserve, complete and give back
// nothing.
func (u *Updater) applySelf(ctx context.Context, plan *Plan, verified string) (*Result, error) {
	if err := refuseSelfDowngrade(plan); err != nil {
		return nil, err
	}
	if err := u.removeStaleIntent(plan.Target); err != nil {
		return nil, err
	}
	// Not saved until the new file is staged (apply saves it then):
	// before that there is nothing on disk for recovery to finish or undo,
	// and a journal at "reserved" would read as a held paid update.
	j := &Journal{
		Target: plan.Target, Product: plan.Product, Server: u.Server,
		From: plan.From, To: plan.Latest.Version,
		OldSHA256: plan.CurrentSHA256, NewSHA256: plan.Latest.SHA256, HealthCheck: selfHealthCheck,
		Free: true, State: StateReserved, CreatedAt: u.Now.Now().UTC(),
	}
	return u.apply(ctx, plan, j, verified)
}
