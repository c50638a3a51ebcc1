package updater

import (
	"context"
	"errors"
	"net/url"

	"github.com/aktual/aktual/api"
)

func (u *Updater) reserve(ctx context.Context, req api.ReserveRequest) (*api.ReservationResponse, error) {
	var out api.ReservationResponse
	if err := u.callJSON(ctx, "POST", "/v1/reservations", nil, req, &out); err != nil {
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
	return u.finishReservation(ctx, id, "complete")
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
