package updater

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aktual/aktual/api"
)

// Request is one update.
type Request struct {
	CheckRequest
	// Confirm, when set, is asked after the check and before anything is
	// downloaded or reserved; false stops with ErrDeclined.
	Confirm func(ctx context.Context, p *Plan) (bool, error)
	// Credential is asked after the download is verified, as late as
	// possible before the reserve.
	Credential func(ctx context.Context, p *Plan) (api.Credential, error)
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
}

// Update runs the whole flow: recover, check, download and verify, reserve,
// apply, complete. On every failure the target is left as it was and a held
// update is released; only a completion that could not be reported leaves
// work for recovery (ErrNotReported).
func (u *Updater) Update(ctx context.Context, req Request) (*Result, error) {
	target, err := resolveTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(u.StateDir, 0o700); err != nil {
		return nil, fail(ErrUsage, err, "cannot create the state directory %s: %v; pass a writable --state-dir", u.StateDir, err)
	}
	if res, err := u.recoverTarget(ctx, target); err != nil || res != nil {
		return res, err
	}
	plan, err := u.Check(ctx, req.CheckRequest)
	if err != nil {
		return nil, err
	}
	res := &Result{Product: plan.Product, Target: plan.Target, From: plan.From, To: plan.Latest.Version}
	if plan.UpToDate {
		res.Status, res.To = StatusUpToDate, plan.From
		return res, nil
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
	if err := checkWritable(plan.Target); err != nil {
		return nil, err
	}
	verified, err := u.download(ctx, plan.Latest, plan.Target)
	if err != nil {
		return nil, err
	}
	defer os.Remove(verified)

	cred, err := req.Credential(ctx, plan)
	if err != nil {
		return nil, err
	}
	return u.reserveAndApply(ctx, plan, cred, verified)
}

func (u *Updater) reserveAndApply(ctx context.Context, plan *Plan, cred api.Credential, verified string) (*Result, error) {
	machine, err := u.machineID()
	if err != nil {
		return nil, fmt.Errorf("finding this machine's ID: %w", err)
	}
	// An earlier run that stopped before the server's answer left its key:
	// reusing it for the same update gets the same reservation, never a
	// second one.
	key, err := u.resumableKey(plan)
	if err != nil {
		return nil, err
	}
	j := &Journal{
		Target: plan.Target, Product: plan.Product, Server: u.Server,
		From: plan.From, To: plan.Latest.Version,
		OldSHA256: plan.CurrentSHA256, NewSHA256: plan.Latest.SHA256,
		IdempotencyKey: key, State: StateIntent, CreatedAt: u.now().UTC(),
	}
	// The intent is on disk before the request leaves the machine.
	if err := u.save(j); err != nil {
		return nil, err
	}
	u.phase(PhaseReserve, "checking the right to update with the server")
	rr, err := u.reserve(ctx, api.ReserveRequest{
		IdempotencyKey: key, Credential: cred, Product: plan.Product,
		FromVersion: plan.From, ToVersion: plan.Latest.Version, MachineID: machine,
	})
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			// The server answered no: nothing is held.
			_ = u.removeJournal(plan.Target)
			return nil, credentialError(err)
		}
		// Unknown whether the reserve reached the server: the journal
		// keeps the key, and recovery releases what may be held.
		return nil, err
	}
	if rr.Reservation.State != api.StateHeld {
		// A resumed key whose reservation has since expired or ended.
		_ = u.removeJournal(plan.Target)
		return nil, fail(nil, nil, "the server's reservation %s is %s, not held; nothing was changed, run the update again", rr.Reservation.ID, rr.Reservation.State)
	}
	u.notice(fmt.Sprintf("the server accepted the credential: one update is held until the install is done (%d left after this one)", rr.Remaining))
	j.ReservationID, j.Remaining, j.State = rr.Reservation.ID, &rr.Remaining, StateReserved
	if err := u.save(j); err != nil {
		return nil, u.abandon(ctx, j, err)
	}

	u.phase(PhaseApply, fmt.Sprintf("installing %s %s", plan.Product, plan.Latest.Version))
	if err := stage(plan.Target, verified, plan.Latest.SHA256); err != nil {
		return nil, u.abandon(ctx, j, fail(ErrApply, err, "cannot write the new version beside %s (%v)", plan.Target, rootCause(err)))
	}
	j.State = StateStaged
	if err := u.save(j); err != nil {
		return nil, u.abandon(ctx, j, err)
	}
	if err := commit(plan.Target, plan.Latest.SHA256); err != nil {
		return nil, u.abandon(ctx, j, fail(ErrApply, err, "cannot replace %s (%v)", plan.Target, rootCause(err)))
	}
	j.State = StateApplied
	if err := u.save(j); err != nil {
		// The target is new; recovery sees its hash and reports it.
		return nil, fail(ErrNotReported, err, "%s %s is installed, but the journal could not be written (%v); run aktual recover", plan.Product, plan.Latest.Version, err)
	}
	return u.report(ctx, j)
}

// abandon undoes a reservation whose apply failed: removes staged files,
// releases the held update, and returns cause (ErrApply) — or, when the
// release cannot reach the server, keeps the journal so recovery releases
// it later.
func (u *Updater) abandon(ctx context.Context, j *Journal, cause error) error {
	cleanStaging(j.Target)
	if err := u.release(ctx, j.ReservationID); err != nil {
		return fail(ErrApply, cause, "%v; %s is unchanged. The held update could not be given back yet (%v); it is given back the next time aktual runs, or by itself when the reservation expires",
			cause, j.Target, rootCause(err))
	}
	_ = u.removeJournal(j.Target)
	return fail(ErrApply, cause, "%v; %s is unchanged and no update was used", cause, j.Target)
}

// report tells the server the update was applied, then forgets the journal.
func (u *Updater) report(ctx context.Context, j *Journal) (*Result, error) {
	u.phase(PhaseComplete, "reporting the completed update")
	res := &Result{Product: j.Product, Target: j.Target, From: j.From, To: j.To, Reservation: j.ReservationID, Remaining: j.Remaining}
	rr, err := u.complete(ctx, j.ReservationID)
	if err != nil {
		res.Status = StatusApplied
		return res, fail(ErrNotReported, err,
			"%s %s is installed, but the server has not yet been told (%v); nothing is lost: aktual reports it the next time it runs (or run aktual recover)",
			j.Product, j.To, rootCause(err))
	}
	res.Status, res.Remaining = StatusUpdated, &rr.Remaining
	j.State, j.Remaining = StateReported, &rr.Remaining
	_ = u.writeInstallRecord(InstallRecord{Target: j.Target, Product: j.Product, Version: j.To, SHA256: j.NewSHA256})
	if err := u.removeJournal(j.Target); err != nil {
		u.notice(fmt.Sprintf("could not remove the finished journal: %v", err))
	}
	return res, nil
}
