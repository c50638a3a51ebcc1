package updater

import (
	"context"
)

// downgrade installs a release staff published to replace the installed,
// withdrawn one, or the next step of a required path already paid for
// (plan.Free). It is journaled like an update, so a crash is finished or
// undone the same way, but nothing is reserved: a vendor's withdrawal,
// or the vendor's requirement to pass through a version, costs the
// customer no paid update.
func (u *Updater) downgrade(ctx context.Context, plan *Plan, verified string) (*Result, error) {
	if err := u.removeStaleIntent(plan.Target); err != nil {
		return nil, err
	}
	if plan.Downgrade {
		u.notice("%s %s was withdrawn by the vendor; %s replaces it, free of charge", plan.Product, plan.From, plan.Latest.Version)
	} else {
		u.notice("%s %s continues the update you paid for (the vendor requires passing through %s): free of charge", plan.Product, plan.Latest.Version, plan.From)
	}
	j := u.newJournal(plan, StateReserved)
	j.Free = true
	if err := u.save(j); err != nil {
		return nil, err
	}
	return u.apply(ctx, plan, j, verified)
}

// removeStaleIntent drops the journal of a paid update whose reserve got
// no answer (recovery has finished every other state before this point):
// the release it was for is withdrawn, and whatever the server may hold
// for it returns by itself when the reservation expires.
func (u *Updater) removeStaleIntent(target string) error {
	j, err := u.loadJournal(target)
	if err != nil || j == nil {
		return err
	}
	if j.State != StateIntent {
		return fail(ErrBusy, nil, "an interrupted update of %s is not finished; run aktual recover first", target)
	}
	u.notice("an interrupted update of %s to %s got no answer from the server; if it held one of your updates, the server gives it back within 7 days", j.Product, j.To)
	return u.state().Remove(target)
}
