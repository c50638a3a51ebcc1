package updater

import (
	"context"
	"errors"
	"os"

	"github.com/aktual/aktual/internal/fileutil"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/journal"
	"github.com/aktual/aktual/updater/internal/swap"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
)

// Request is one update.
type Request struct {
	CheckRequest
	// Confirm, when set, is asked after the check and before anything is
	// downloaded or reserved; false stops with ErrDeclined.
	Confirm func(ctx context.Context, p *Plan) (bool, error)
	// Prepare, when set, runs after the confirmation and before the
	// download: the place to find a hardware key or refuse a credential
	// of the wrong kind, before a long download.
	Prepare func(ctx context.Context, p *Plan) error
	// Credential is asked after the download is verified, as late as
	// possible before the reserve.
	Credential func(ctx context.Context, p *Plan) (api.Credential, error)
	// File, when set, is the release's artifact downloaded elsewhere: it
	// is used instead of a download, after the same checks.
	File string
	// InUse, when set, is asked when programs hold files a folder's
	// update must replace (on Windows, before anything is reserved): nil
	// means they were closed, check again; an error stops the update
	// (InUseError for exit 9). Unset, the update stops at once.
	InUse func(ctx context.Context, procs []Process) error
	// free marks aktual's own update (set only by SelfUpdate, for product
	// aktual at the running executable; unexported so that no other caller
	// can skip a product's reservation): nothing is reserved, completed or
	// given back, and no credential is asked.
	free bool
}

// Result statuses.
const (
	StatusUpdated  = "updated"
	StatusUpToDate = "up_to_date"
	StatusApplied  = "applied_unreported" // applied; completion will be retried
)

// Result says what an update did.
type Result struct {
	Status      string
	Product     string
	Target      string
	From        string
	To          string
	Remaining   *int64
	Reservation string
	// Recovered: the update was one an earlier run left unfinished, and
	// this run's recovery finished it (Updater.Finished was told).
	Recovered bool
}

// Update runs the whole flow: recover, check, download and verify, reserve,
// apply, complete. On every failure the target is left as it was and a held
// update is released; only a completion that could not be reported leaves
// work for recovery (ErrNotReported). One update of a target runs at a time.
func (u *Updater) Update(ctx context.Context, req Request) (*Result, error) {
	if req.Product == SelfProduct && !req.free {
		// aktual itself is free (SelfUpdate): a paid update of it would
		// spend one of the customer's updates for nothing.
		return nil, fail(ErrUsage, nil, "aktual updates itself free of charge: run aktual self-update; aktual update is for the programs your vendor sells")
	}
	target, _, err := u.resolveUpdateTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(u.StateDir, 0o700); err != nil {
		return nil, fail(ErrUsage, err, "cannot create the state directory %s: %v; pass a writable --state-dir", u.StateDir, err)
	}
	unlock, err := journal.Lock(target)
	if err != nil {
		return nil, err
	}
	defer unlock()
	u.recoverOthers(ctx, target)
	if res, err := u.recoverTarget(ctx, target); err != nil || res != nil {
		return res, err
	}
	plan, err := u.Check(ctx, req.CheckRequest)
	if err != nil {
		return nil, err
	}
	res, err := u.updatePlanned(ctx, req, plan)
	if err == nil && req.Channel != "" {
		u.rememberChannel(plan.Target, plan.Product, req.Channel)
	}
	if err != nil && res == nil {
		// What was planned, for the caller's report of the failure.
		res = &Result{Product: plan.Product, Target: plan.Target, From: plan.From, To: plan.Latest.Version}
	}
	return res, err
}

// updatePlanned carries out a plan: confirm, download (or take --file),
// ask for the credential, reserve, apply, report.
func (u *Updater) updatePlanned(ctx context.Context, req Request, plan *Plan) (_ *Result, err error) {
	res := &Result{Product: plan.Product, Target: plan.Target, From: plan.From, To: plan.Latest.Version}
	if plan.UpToDate {
		res.Status, res.To = StatusUpToDate, plan.From
		return res, nil
	}
	if plan.folder != nil {
		if err := u.prepareFolder(ctx, plan); err != nil {
			return nil, err
		}
	}
	if req.Confirm != nil {
		ok, err := req.Confirm(ctx, plan)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fail(ErrDeclined, nil, "update cancelled; nothing was changed or used")
		}
	}
	if req.Prepare != nil {
		if err := req.Prepare(ctx, plan); err != nil {
			return nil, err
		}
	}
	if plan.folder != nil {
		return u.updateFolder(ctx, req, plan)
	}
	if err := swap.CheckWritable(plan.Target); err != nil {
		return nil, err
	}
	var verified string
	if req.File != "" {
		u.phase(PhaseVerify, "checking the release file %s against the signed release of %s %s", req.File, plan.Latest.Product, plan.Latest.Version)
		verified, err = fetch.CopyFile(ctx, plan.Latest, plan.Target, req.File)
	} else {
		verified, err = u.fetchRelease(ctx, plan) // a patch, or the whole download
	}
	if err != nil {
		return nil, err
	}
	// Hashed as it was written: swap.Stage need not read it again.
	swap.MarkVerified(verified, plan.Latest.SHA256)
	defer func() {
		switch {
		case req.File != "":
			os.Remove(verified) // a copy of the release file
		case err == nil || isApplied(plan.Target, plan.Latest.SHA256):
			fetch.Discard(plan.Target)
		default:
			// Not installed: a refused code, a cut line at the reserve,
			// Ctrl-C. The verified download stays for the next run, which
			// hashes it again instead of downloading it again.
		}
	}()
	if req.free {
		return u.applySelf(ctx, plan, verified) // selfupdate.go: free, journaled
	}
	if plan.Downgrade || plan.Free {
		return u.downgrade(ctx, plan, verified)
	}

	cred, err := req.Credential(ctx, plan)
	if err != nil {
		return nil, err
	}
	return u.reserveAndApply(ctx, plan, cred, verified)
}

func (u *Updater) reserveAndApply(ctx context.Context, plan *Plan, cred api.Credential, verified string) (*Result, error) {
	machine, err := u.machineID()
	if err != nil {
		return nil, i18n.Errorf("finding this machine's ID: %w", err)
	}
	key, resumed, err := u.settleIntent(ctx, plan, cred, machine)
	if err != nil {
		return nil, err
	}
	j := u.newJournal(plan, StateIntent)
	j.IdempotencyKey = key
	// The intent is on disk before the request leaves the machine.
	if err := u.save(j); err != nil {
		return nil, err
	}
	fault.Hit(fault.AfterIntent)
	u.phase(PhaseReserve, "checking the right to update with the server")
	rr, err := u.reserve(ctx, reserveRequest(j, cred, machine))
	if err != nil {
		var ae *fetch.APIError
		switch {
		case errors.As(err, &ae) && resumed && ae.Code == api.CodeConflict:
			// The interrupted update holds a unit under this key, for
			// another credential: keep the key so that one can finish it.
			return nil, fail(ErrCredentialRejected, err,
				"an interrupted update of %s was started with another code; run it again with that code to finish it (otherwise its held update returns by itself within 7 days)", plan.Product)
		case errors.As(err, &ae) && ae.Status < 500 && ae.Code != api.CodeRateLimited:
			// The server answered no. A fresh key holds nothing; a resumed
			// one is kept, as the first answer may have held a unit.
			if !resumed {
				// Left behind, the journal only makes the next run resume
				// this key, which the server refuses again or answers
				// with a reservation: a refused key holds nothing.
				u.forgetJournal(plan.Target)
			}
			return nil, credentialError(err)
		case errors.As(err, &ae) && ae.Code == api.CodeRateLimited:
			return nil, credentialError(err)
		}
		// Unknown whether the reserve reached the server: the journal
		// keeps the key, and the next run settles it.
		return nil, transientError(err, i18n.M("the server did not answer the reserve"))
	}
	if rr.Reservation.State != api.StateHeld {
		// A resumed key whose reservation has since expired or ended:
		// it holds nothing, and a journal left behind gets this same
		// answer again next run.
		u.forgetJournal(plan.Target)
		return nil, fail(nil, nil, "the server's reservation %s is %s, not held; nothing was changed, run the update again", rr.Reservation.ID, rr.Reservation.State)
	}
	fault.Hit(fault.ReserveAnswered)
	u.notice("the server accepted the credential: one update is held until the install is done (%d left after this one)", rr.Remaining)
	j.ReservationID, j.Remaining, j.State = rr.Reservation.ID, &rr.Remaining, StateReserved
	if err := u.save(j); err != nil {
		return nil, u.abandon(ctx, j, err)
	}
	return u.apply(ctx, plan, j, verified)
}

// apply stages, swaps and health-checks a reserved (or free) update, then
// reports it.
func (u *Updater) apply(ctx context.Context, plan *Plan, j *Journal, verified string) (*Result, error) {
	if plan.folder != nil {
		return u.applyFolder(ctx, plan, j)
	}
	var err error
	if ctx.Err() != nil {
		return nil, u.stopBeforeSwap(ctx, j)
	}
	u.phase(PhaseApply, "installing %s %s", plan.Product, plan.Latest.Version)
	if err := swap.Stage(plan.Target, verified, plan.Latest.SHA256); err != nil {
		return nil, u.abandon(ctx, j, fail(ErrApply, err, "cannot write the new version beside %s (%v)", plan.Target, fetch.RootCause(err)))
	}
	if j.StagedID, err = swap.FileID(swap.StagedPath(plan.Target)); err != nil {
		return nil, u.abandon(ctx, j, fail(ErrApply, err, "cannot read the new version beside %s (%v)", plan.Target, fetch.RootCause(err)))
	}
	j.State = StateStaged
	if err := u.save(j); err != nil {
		return nil, u.abandon(ctx, j, err)
	}
	fault.Hit(fault.AfterStaging)
	if ctx.Err() != nil {
		return nil, u.stopBeforeSwap(ctx, j)
	}
	commit := swap.Commit
	if j.Product == SelfProduct {
		commit = swap.CommitSelf // aktual's own file: never an instant without one (swap's selfupdate_unix.go)
	}
	if rollbackFailed, err := commit(plan.Target, plan.Latest.SHA256); rollbackFailed {
		// The old file is aside and the new one staged: the journal stays
		// at "staged" so recovery finishes the swap; nothing is given up.
		return nil, fail(nil, err, "replacing %s failed and the old file could not be put back (%v); run aktual recover to finish the update", plan.Target, err)
	} else if err != nil {
		cause := told(err) // held by another program, or access denied: swap said which
		if cause == nil {
			cause = fail(ErrApply, err, "cannot replace %s (%v)", plan.Target, fetch.RootCause(err))
		}
		return nil, u.abandon(ctx, j, cause)
	}
	fault.Hit(fault.AfterSwap)
	if err := u.acceptOrRollBack(ctx, j); err != nil {
		return nil, err
	}
	j.State = StateApplied
	if err := u.save(j); err != nil {
		// The target is new; report it now. If that fails too, recovery
		// sees the new hash beside the "staged" journal and reports it.
		u.notice("could not record the applied update in the journal: %v", err)
	}
	return u.report(ctx, j)
}

// acceptOrRollBack runs the new version's health check, when its release
// has one. A failure puts the old version back and gives the update back.
func (u *Updater) acceptOrRollBack(ctx context.Context, j *Journal) error {
	if len(j.HealthCheck) > 0 {
		u.phase(PhaseHealth, "checking that %s %s starts", j.Product, j.To)
		if err := swap.HealthCheck(ctx, j.Target, j.HealthCheck, u.HealthTimeout); err != nil {
			if rerr := swap.Rollback(j.Target); rerr != nil {
				// The journal stays at "staged": recovery checks again
				// and puts the old version back.
				return fail(nil, rerr, "%s %s failed its health check (%v), and the old version could not be put back yet (%v); run aktual recover",
					j.Product, j.To, err, rerr)
			}
			return u.abandon(ctx, j, fail(ErrApply, rolledBack{err}, "%s %s failed its health check (%v); the old version was put back", j.Product, j.To, err))
		}
	}
	swap.DropOld(j.Target)
	return nil
}

func reserveRequest(j *Journal, cred api.Credential, machine string) api.ReserveRequest {
	return api.ReserveRequest{
		IdempotencyKey: j.IdempotencyKey, Credential: cred, Product: j.Product,
		FromVersion: j.From, ToVersion: j.To, MachineID: machine, PathTo: j.PathTo,
	}
}

// settleIntent deals with a journal left at "intent" (a reserve whose
// answer never came) before a new reserve, and returns the key to use. The
// same update resumes with the same key: the server answers with the same
// reservation. Another update (a newer release since) first re-sends the
// old request with the old key and gives back whatever it held, so no unit
// stays held for an update that will never be applied.
func (u *Updater) settleIntent(ctx context.Context, p *Plan, cred api.Credential, machine string) (key string, resumed bool, err error) {
	j, err := u.loadJournal(p.Target)
	if err != nil || j == nil || j.State != StateIntent || !sameServer(j.Server, u.Server) {
		key, err := journal.NewIdempotencyKey()
		return key, false, err
	}
	if j.Product == p.Product && j.From == p.From && j.To == p.Latest.Version {
		return j.IdempotencyKey, true, nil
	}
	rr, err := u.reserve(ctx, reserveRequest(j, cred, machine))
	var ae *fetch.APIError
	switch {
	case err == nil && rr.Reservation.State == api.StateHeld:
		if err := u.release(ctx, rr.Reservation.ID); err != nil {
			return "", false, transientError(err, i18n.M("an earlier interrupted update could not be settled"))
		}
	case errors.As(err, &ae) && ae.Status < 500 && ae.Code != api.CodeRateLimited:
		// Refused (another credential, nothing left): nothing of ours
		// is held under that key, or it is not ours to give back.
	case err != nil:
		return "", false, transientError(err, i18n.M("an earlier interrupted update could not be settled"))
	}
	if err := u.state().Remove(p.Target); err != nil {
		return "", false, err
	}
	key, err = journal.NewIdempotencyKey()
	return key, false, err
}

// abandon undoes a reservation whose apply failed: removes staged files,
// releases the held update, and returns cause with its kind (ErrApply
// when it has none; ErrInUse for a file another program held) — or, when
// the release cannot reach the server, keeps the journal so recovery
// releases it later.
func (u *Updater) abandon(ctx context.Context, j *Journal, cause error) error {
	if j.StagedID != "" {
		if id, err := swap.FileID(j.Target); err == nil && id == j.StagedID {
			// The new version is in place after all: never give back an
			// update that was applied. Recovery decides, from "staged".
			return fail(nil, cause, "%v; but %s %s is in place: run aktual recover to finish the update", cause, j.Product, j.To)
		}
	}
	cleanStaging(j.Target)
	if j.Free {
		// Free: nothing is held. A journal left behind is recovered as
		// never applied (the target is not the staged file) and dropped.
		u.forgetJournal(j.Target)
		return fail(kindOf(cause), cause, "%v; %s is unchanged", cause, j.Target)
	}
	rctx, cancel := detached(ctx)
	defer cancel()
	if err := u.release(rctx, j.ReservationID); err != nil {
		return fail(kindOf(cause), cause, "%v; %s is unchanged. The held update could not be given back yet (%v); it is given back the next time aktual runs, or by itself when the reservation expires",
			cause, j.Target, fetch.RootCause(err))
	}
	// Given back. A journal left behind makes the next run give it back
	// again, which the server records once (a repeat changes nothing).
	u.forgetJournal(j.Target)
	return fail(kindOf(cause), cause, "%v; %s is unchanged and no update was used", cause, j.Target)
}

// isApplied reports whether target holds the release with sha256hex.
func isApplied(target, sha256hex string) bool {
	got, err := fileutil.SHA256(target)
	return err == nil && got == sha256hex
}

// stopBeforeSwap ends a run stopped (Ctrl-C) before the swap began:
// nothing is installed, so the held update is given back and the error
// reads as an interruption. From the swap on, a run is finished instead:
// the update is then really applied, and half an install helps nobody.
func (u *Updater) stopBeforeSwap(ctx context.Context, j *Journal) error {
	// The staged file is the verified download: it is kept (apply.go's
	// unstage), once the journal no longer names it.
	if j.Free {
		// Before unstage, so no journal names the kept download. Should
		// the removal fail, recovery finds the target unchanged and
		// drops the free journal: nothing is held.
		u.forgetJournal(j.Target)
		unstage(j.Target, j.NewSHA256, j.StagedID)
		return fail(nil, ctx.Err(), "stopped before installing %s %s; %s is unchanged", j.Product, j.To, j.Target)
	}
	unstage(j.Target, j.NewSHA256, u.forgetStaged(j))
	rctx, cancel := detached(ctx)
	defer cancel()
	if err := u.release(rctx, j.ReservationID); err != nil {
		// The journal stays at "reserved": the next run gives it back.
		return fail(nil, ctx.Err(), "stopped before installing %s %s; %s is unchanged. The held update could not be given back yet (%v); it is given back the next time aktual runs, or by itself when the reservation expires",
			j.Product, j.To, j.Target, fetch.RootCause(err))
	}
	// As in abandon: a repeated give-back changes nothing on the server.
	u.forgetJournal(j.Target)
	return fail(nil, ctx.Err(), "stopped before installing %s %s; %s is unchanged and the held update was given back", j.Product, j.To, j.Target)
}

// report tells the server the update was applied, then forgets the journal.
// A connection failure or a server error keeps the journal for a retry; a
// definitive refusal (the server no longer knows the reservation) cannot
// be retried away and is said so.
func (u *Updater) report(ctx context.Context, j *Journal) (*Result, error) {
	res := &Result{Product: j.Product, Target: j.Target, From: j.From, To: j.To, Reservation: j.ReservationID, Remaining: j.Remaining}
	if j.Free {
		// Nothing to report (a downgrade, aktual's own update): no
		// "complete" phase either, which would say the server is told.
		res.Status = StatusUpdated
		u.recordInstall(j)
		u.finished(j)
		return res, nil
	}
	u.phase(PhaseComplete, "reporting the completed update")
	cctx, cancel := detached(ctx)
	defer cancel()
	rr, err := u.complete(cctx, j.ReservationID)
	var ae *fetch.APIError
	switch {
	case errors.As(err, &ae) && ae.Status < 500 && ae.Code != api.CodeRateLimited:
		// Refused for good: a journal left behind only sends the same
		// completion again next run, which the server refuses again.
		u.forgetJournal(j.Target)
		res.Status = StatusUpdated
		return res, fail(nil, err, "%s %s is installed, but the server refused its completion (%s); contact your vendor, quoting reservation %s",
			j.Product, j.To, ae.Message, j.ReservationID)
	case err != nil:
		res.Status = StatusApplied
		return res, fail(ErrNotReported, err,
			"%s %s is installed, but the server has not yet been told (%v); nothing is lost: aktual reports it the next time it runs (or run aktual recover)",
			j.Product, j.To, fetch.RootCause(err))
	}
	res.Status, res.Remaining = StatusUpdated, &rr.Remaining
	u.recordInstall(j)
	u.finished(j)
	return res, nil
}
