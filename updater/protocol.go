package updater

import (
	"context"
	"errors"
	"net/http/httptrace"
	"net/url"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
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
	err := u.retryIdempotent(ctx, callReserve, func() error {
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
	err := u.retryIdempotent(ctx, callComplete, func() (err error) {
		rr, err = u.finishReservation(ctx, id, "complete")
		return err
	})
	return rr, err
}

// release gives the held update back. A reservation the server no longer
// knows, or already released, needs nothing more.
func (u *Updater) release(ctx context.Context, id string) error {
	_, err := u.finishReservation(ctx, id, "release")
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
		return nil
	}
	return err
}
