package updater

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/folder"
	"github.com/aktual/aktual/updater/internal/journal"
	"github.com/aktual/aktual/updater/internal/swap"
)

// Recovery actions.
const (
	ActionReported = "reported" // the update was applied; the server now counts it
	// ActionInstalled: a free update (a self-update, a downgrade staff
	// published) was applied; there is nothing to tell the server.
	ActionInstalled = "installed"
	ActionReleased  = "released" // the update never applied; the held unit is back
	ActionPending   = "pending"  // could not finish now (server unreachable); kept
	ActionResume    = "resume"   // the reserve's answer never came; the next update of this target resumes it
	ActionDropped   = "dropped"  // nothing left to do
	// ActionCleaned: the patch work files a killed run left beside a
	// target were removed (recover_scratch.go); no journal is involved.
	ActionCleaned = "cleaned"
)

// intentLifetime: after this, an unanswered reserve has expired on the
// server (its reservation TTL is 7 days) and the journal is only noise.
const intentLifetime = 8 * 24 * time.Hour

// Recovered says what recovery did with one journal.
type Recovered struct {
	Target  string
	Product string
	From    string
	To      string
	Server  string // the server the update was made with
	Channel string // the channel it came from ("" stable)
	// RolledBack: recovery ran the new version's health check again, it
	// failed, and the old version was put back (Action is then
	// ActionReleased, or ActionDropped for a free update).
	RolledBack bool
	Action     string
	Result     *Result // set when Action is ActionReported or ActionInstalled
	Err        error   // why Action is ActionPending
	// Scratch, when set, makes this the outcome for patch work files
	// beside Target rather than for a journal: the files removed
	// (ActionCleaned), or those still there (ActionPending, with Err).
	Scratch []string
}

// Recover finishes what journals say is unfinished: an applied update is
// reported; a reserved or staged one whose target already has the new hash
// is treated as applied; one that never applied is released and its staged
// files removed. Then it removes the patch work files a killed run left
// beside the targets of the journals and install records, and beside
// also (targets aktual may not know of). It never changes a target except
// to finish or undo a swap that a crash interrupted.
func (u *Updater) Recover(ctx context.Context, also ...string) ([]Recovered, error) {
	// Alone, recovery settles an unanswered reserve too: by its key, with
	// no credential (recover_intent.go). Before an update, the update
	// resumes it instead.
	uu := *u
	uu.settleIntents = true
	u = &uu
	paths, err := u.state().List()
	if err != nil {
		return nil, i18n.Errorf("reading journals in %s: %w", u.state().JournalDir(), err)
	}
	var out []Recovered
	var journaled []scratchOwner
	for _, p := range paths {
		j, err := journal.Read(p)
		if err != nil {
			out = append(out, Recovered{Target: filepath.Base(p), Action: ActionPending, Err: err})
			continue
		}
		if j == nil {
			continue
		}
		journaled = append(journaled, scratchOwner{j.Target, j.Product})
		out = append(out, u.recoverLocked(ctx, p, j))
	}
	return append(out, u.removeScratch(u.scratchOwners(journaled, also))...), nil
}

// recoverLocked recovers the journal at path, read as j, under its target's
// lock, reading it again once the lock is held: another run may have
// finished or replaced it meanwhile. An applied update whose folder can no
// longer be locked (removed, read-only) is reported all the same: that
// needs nothing of the target.
func (u *Updater) recoverLocked(ctx context.Context, path string, j *Journal) Recovered {
	rec := Recovered{Target: j.Target, Product: j.Product, From: j.From, To: j.To, Channel: j.Channel}
	unlock, err := journal.Lock(j.Target)
	switch {
	case err != nil && !errors.Is(err, ErrBusy) && j.State == StateApplied:
		return u.recoverJournal(ctx, j)
	case err != nil:
		rec.Action, rec.Err = ActionPending, err
		return rec
	}
	defer unlock()
	now, err := journal.Read(path)
	switch {
	case err != nil:
		rec.Action, rec.Err = ActionPending, err
		return rec
	case now == nil || now.IdempotencyKey != j.IdempotencyKey || now.State != j.State:
		rec.Action = ActionDropped // finished or replaced by another run
		return rec
	}
	return u.recoverJournal(ctx, now)
}

// recoverOthers finishes the journals of targets other than target, as
// every run does first; what it cannot finish now stays for later and is
// only mentioned.
func (u *Updater) recoverOthers(ctx context.Context, target string) {
	paths, err := u.state().List()
	if err != nil {
		return
	}
	own := u.state().Path(target)
	for _, p := range paths {
		if p == own {
			continue
		}
		j, err := journal.Read(p)
		if err != nil || j == nil || !sameServer(j.Server, u.Server) {
			continue
		}
		rec := u.recoverLocked(ctx, p, j)
		if errors.Is(rec.Err, ErrBusy) {
			continue
		}
		switch rec.Action {
		case ActionReported:
			u.notice("an interrupted update of %s at %s was finished: it was installed, and the server is now told", j.Product, j.Target)
		case ActionInstalled:
			u.notice("an interrupted update of %s at %s was finished: it was installed (free: nothing to tell the server)", j.Product, j.Target)
		case ActionReleased:
			u.notice("an interrupted update of %s at %s was finished: it was not installed, and the held update was given back", j.Product, j.Target)
		case ActionPending:
			u.notice("an interrupted update of %s at %s is still pending: %v", j.Product, j.Target, rec.Err)
		}
	}
}

// recoverTarget recovers the journal of one target before a new update of
// it. A result is returned when recovery itself finished the update.
func (u *Updater) recoverTarget(ctx context.Context, target string) (*Result, error) {
	j, err := u.loadJournal(target)
	if err != nil || j == nil {
		return nil, err
	}
	rec := u.recoverJournal(ctx, j)
	switch rec.Action {
	case ActionReported:
		u.notice("an earlier update of %s to %s had been applied; it is now reported", j.Product, j.To)
		rec.Result.Recovered = true
		return rec.Result, nil
	case ActionInstalled:
		u.notice("an earlier update of %s to %s had been applied", j.Product, j.To)
		rec.Result.Recovered = true
		return rec.Result, nil
	case ActionPending:
		if errors.Is(rec.Err, ErrNotReported) {
			return &Result{Status: StatusApplied, Product: j.Product, Target: j.Target, From: j.From, To: j.To, Reservation: j.ReservationID}, rec.Err
		}
		return nil, rec.Err
	}
	return nil, nil
}

// recoverJournal finishes one journal, and tells Finished when it did.
func (u *Updater) recoverJournal(ctx context.Context, j *Journal) Recovered {
	rec := u.finishJournal(ctx, j)
	rec.Server = j.Server
	switch rec.Action {
	case ActionReported, ActionInstalled, ActionReleased:
		if u.Finished != nil {
			u.Finished(rec)
		}
	}
	return rec
}

func (u *Updater) finishJournal(ctx context.Context, j *Journal) Recovered {
	rec := Recovered{Target: j.Target, Product: j.Product, From: j.From, To: j.To, Channel: j.Channel}
	if u.Server == "" {
		// `aktual recover` without --server finishes each journal with
		// the server it was made with.
		uj := *u
		uj.Server = j.Server
		u = &uj
	}
	if !sameServer(j.Server, u.Server) {
		rec.Action, rec.Err = ActionPending, i18n.Errorf("the unfinished update of %s was made with server %s; run aktual recover --server %s", j.Target, j.Server, j.Server)
		return rec
	}
	u.phase(PhaseRecover, "finishing an interrupted update of %s", j.Product)
	switch j.State {
	case StateReported:
		// Done; only its removal failed before. It is tried again each run.
		rec.Action = ActionDropped
		u.forgetJournal(j.Target)
		return rec
	case StateIntent:
		if u.Now.Now().Sub(j.CreatedAt) > intentLifetime {
			// Any reservation under its key has expired on the server; a
			// journal left behind is only dropped again next run.
			rec.Action = ActionDropped
			u.forgetJournal(j.Target)
			return rec
		}
		if u.settleIntents {
			return u.settleIntentByKey(ctx, j, rec)
		}
		rec.Action = ActionResume
		return rec
	case StateReserved, StateStaged, StateApplied:
	default:
		rec.Action, rec.Err = ActionPending, i18n.Errorf("journal of %s has unknown state %q", j.Target, j.State)
		return rec
	}
	applied, rolledBack, err := u.settleSwap(ctx, j)
	rec.RolledBack = rolledBack
	switch {
	case err != nil:
		rec.Action, rec.Err = ActionPending, err
		return rec
	case applied || j.State == StateApplied:
		// An applied update is reported even when its target has since
		// been moved or removed: it was applied, so it is paid for.
		return u.reportRecovered(ctx, j, rec)
	}
	return u.giveBackRecovered(ctx, j, rec)
}

// settleSwap finds whether the update of j is in place after a crash,
// finishing or undoing a swap that was cut in two, checking the health
// again where the crash came before the check ended, and cleaning what
// an applied update leaves. An error leaves the journal for later.
func (u *Updater) settleSwap(ctx context.Context, j *Journal) (applied, rolledBack bool, err error) {
	// A swap only ever follows a journal saved at "staged": a target that
	// holds the new version under a "reserved" journal was updated by
	// someone else, and this reservation is given back.
	if j.Kind == journal.KindFolder {
		return u.settleFolder(ctx, j)
	}
	if j.State != StateReserved {
		applied, err = swap.Finish(j.Target, j.NewSHA256, j.StagedID)
	}
	if err != nil && j.State != StateApplied {
		return false, false, err
	}
	if applied && j.State != StateApplied && len(j.HealthCheck) > 0 && fileExists(swap.OldPath(j.Target)) {
		// A crash came between the swap and the end of the health check:
		// check again, and put the old version back if it fails.
		if err := swap.HealthCheck(ctx, j.Target, j.HealthCheck, u.HealthTimeout); err != nil {
			if rerr := swap.Rollback(j.Target); rerr != nil {
				return false, false, i18n.Errorf("putting back the old version of %s: %w", j.Target, rerr)
			}
			applied, rolledBack = false, true
		}
	}
	if applied {
		swap.DropOld(j.Target)
	}
	if applied || j.State == StateApplied {
		// A kill after the swap left the verified download behind.
		cleanStaging(j.Target)
	}
	return applied, rolledBack, nil
}

// reportRecovered reports an update recovery found applied.
func (u *Updater) reportRecovered(ctx context.Context, j *Journal, rec Recovered) Recovered {
	if j.State != StateApplied {
		j.State = StateApplied
		if err := u.save(j); err != nil {
			rec.Action, rec.Err = ActionPending, err
			return rec
		}
	}
	if j.Kind == journal.KindFolder {
		u.keepFolder(j, folder.For(j.Target)) // only now that the journal says "applied"
	}
	res, err := u.report(ctx, j)
	switch {
	case errors.Is(err, ErrNotReported):
		rec.Action, rec.Err = ActionPending, err
		return rec
	case err != nil:
		// Refused for good; the journal is gone: nothing to retry.
		rec.Action, rec.Err = ActionDropped, err
		return rec
	}
	rec.Action, rec.Result = ActionReported, res
	if j.Free {
		rec.Action = ActionInstalled
	}
	return rec
}

// giveBackRecovered undoes an update recovery found never applied: the
// staged file, the verified download renamed, is kept as the download for
// the next update, which checks it again (apply.go's unstage), once the
// journal no longer names it; a held update is given back.
func (u *Updater) giveBackRecovered(ctx context.Context, j *Journal, rec Recovered) Recovered {
	folder := j.Kind == journal.KindFolder // settleFolder cleared its stage
	if j.Free {
		// Nothing is held; a journal left behind is dropped again.
		u.forgetJournal(j.Target)
		if !folder {
			unstage(j.Target, j.NewSHA256, j.StagedID)
		}
		rec.Action = ActionDropped
		return rec
	}
	if !folder {
		unstage(j.Target, j.NewSHA256, u.forgetStaged(j))
	}
	err := u.release(ctx, j.ReservationID)
	var ae *fetch.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == api.CodeConflict:
		// The server counts it as applied (a completion got through
		// before); there is nothing to give back. Left behind, the
		// journal meets the same answer next run.
		u.forgetJournal(j.Target)
		rec.Action = ActionDropped
		return rec
	case err != nil:
		rec.Action, rec.Err = ActionPending, transientError(err, i18n.M("giving back the update"))
		return rec
	}
	// Given back; a repeat next run changes nothing on the server.
	u.forgetJournal(j.Target)
	rec.Action = ActionReleased
	return rec
}

// sameServer compares server URLs as typed, ignoring a trailing slash.
func sameServer(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }
