package updater

import (
	"context"
	"errors"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/folder"
	"github.com/aktual/aktual/updater/internal/journal"
)

// settleIntent settles a journal left at "intent" (the reserve's answer
// never came) without the credential: the journal's idempotency key is a
// capability the server accepts to tell that one reservation's fate and
// give it back (POST /v1/reservations/settle). The target was never
// touched at "intent", so whatever the reserve held is given back.
func (u *Updater) settleIntentByKey(ctx context.Context, j *Journal, rec Recovered) Recovered {
	var rr api.ReservationResponse
	req := api.SettleRequest{IdempotencyKey: j.IdempotencyKey, Release: true}
	err := u.client().RetryIdempotent(ctx, fetch.Settle, func() error {
		return u.callJSON(ctx, "POST", "/v1/reservations/settle", nil, req, &rr)
	})
	if err == nil || errors.As(err, new(*fetch.APIError)) {
		if j.Kind == journal.KindFolder {
			// Nothing was switched at "intent": the stage goes, the
			// verified downloads stay for the next update.
			folder.For(j.Target).CleanStage()
		}
	}
	var ae *fetch.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == api.CodeNotFound:
		// No reserve with this key reached the server: nothing is held.
		u.forgetJournal(j.Target)
		rec.Action = ActionDropped
		return rec
	case err != nil:
		rec.Action, rec.Err = ActionPending, transientError(err, i18n.M("asking the server what became of the interrupted reserve"))
		return rec
	}
	u.forgetJournal(j.Target)
	switch rr.Reservation.State {
	case api.StateHeld:
		// A server that kept it held (it did not give it back): the
		// next update resumes it with the key, or it expires.
		rec.Action = ActionResume
	case api.StateConsumed:
		rec.Action = ActionDropped
	default:
		rec.Action = ActionReleased
		rec.Result = &Result{Product: j.Product, Target: j.Target, From: j.From, To: j.To, Reservation: rr.Reservation.ID, Remaining: &rr.Remaining}
	}
	return rec
}
