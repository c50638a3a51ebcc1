package updater

import (
	"context"
	"errors"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"
)

// onSent marks the instant a request is fully on the wire (for the crash
// tests' "sent, not answered" steps).
func onSent(ctx context.Context, step string) context.Context {
	if !fault.Enabled {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { fault.Hit(step) },
	})
}

func (u *Updater) reserve(ctx context.Context, req api.ReserveRequest) (*api.ReservationResponse, error) {
	ctx = onSent(ctx, fault.ReserveSent)
	var out api.ReservationResponse
	err := u.client().RetryIdempotent(ctx, fetch.Reserve, func() error {
		return u.callJSON(ctx, "POST", "/v1/reservations", nil, req, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (u *Updater) finishReservation(ctx context.Context, id, action string) (*api.ReservationResponse, error) {
	var out api.ReservationResponse
	if err := u.callJSON(ctx, "POST", "/v1/reservations/"+url.PathEscape(id)+"/"+action, nil, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (u *Updater) complete(ctx context.Context, id string) (*api.ReservationResponse, error) {
	ctx = onSent(ctx, fault.CompleteSent)
	var rr *api.ReservationResponse
	err := u.client().RetryIdempotent(ctx, fetch.Complete, func() (err error) {
		rr, err = u.finishReservation(ctx, id, "complete")
		return err
	})
	return rr, err
}

// release gives the held update back. A reservation the server no longer
// knows, or already released, needs nothing more.
func (u *Updater) release(ctx context.Context, id string) error {
	_, err := u.finishReservation(ctx, id, "release")
	var ae *fetch.APIError
	if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
		return nil
	}
	return err
}

// credentialError turns a server refusal of a credential into the kind a
// script can act on, keeping the server's advice.
func credentialError(err error) error {
	var ae *fetch.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Code {
	case api.CodeInvalidCode, api.CodeUnknownCredential, api.CodeInactive, api.CodeWrongSeries, api.CodeExpired:
		return fail(ErrCredentialRejected, err, "%s", ae.Message)
	case api.CodeExhausted:
		return fail(ErrExhausted, err, "%s", ae.Message)
	case api.CodeHalted:
		// Staff halted or withdrew the release after it was offered:
		// nothing was reserved; a later run gets what is offered then.
		return fail(ErrNoConnection, err, "%s", ae.Message)
	case api.CodeRateLimited:
		// The server's own message says which attempts and how long, in
		// the language asked for; an older or foreign one may say less.
		if ae.Message != "" {
			return fail(ErrNoConnection, err, "%s", ae.Message)
		}
		if secs, err2 := strconv.Atoi(ae.RetryAfter); err2 == nil && secs > 0 {
			return fail(ErrNoConnection, err, "the server is limiting attempts; try again in %d seconds", secs)
		}
		return fail(ErrNoConnection, err, "the server is limiting attempts; try again in a few minutes")
	}
	if ae.Status >= 500 {
		return transientError(err, i18n.M("the server could not check the right to update"))
	}
	return fail(nil, err, "%s", ae.Error())
}

// transientError keeps the kind of a connection failure and names a
// server's 5xx answer as one.
func transientError(err error, what i18n.Message) error {
	var ae *fetch.APIError
	if errors.As(err, &ae) {
		if secs, err2 := strconv.Atoi(ae.RetryAfter); err2 == nil && secs > 0 {
			return fail(ErrNoConnection, err, "%v: the server is unavailable (%d %s); try again in %d seconds", what, ae.Status, ae.Code, secs)
		}
		return fail(ErrNoConnection, err, "%v: the server is unavailable (%d %s); try again later", what, ae.Status, ae.Code)
	}
	return err
}

// finishTimeout bounds a completion or release sent after the user asked
// to stop: it is sent anyway, so nothing is left held by the interruption.
const finishTimeout = 30 * time.Second

// detached keeps the values of ctx but not its cancellation, with a
// deadline: for the requests that finish what was started.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
}
