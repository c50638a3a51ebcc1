package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/metrics"
	"github.com/aktual/aktual/server/store"
)

// handleSettle answers what became of the reservation a reserve with the
// request's idempotency key made (POST /v1/reservations/settle), and with
// release gives it back if it is still held, as POST
// /v1/reservations/{id}/release does (the same ledger entry). A consumed
// reservation stays consumed; a released or expired one is answered as it
// is. The key is the only credential. A lookup that finds nothing is a
// failed attempt of the client's address, guessing bounded as guessing
// codes is, unless the key has the installer's own shape (k_ and 128
// random bits in hex): no one guesses one of those, and an installer's
// recovery meets "nothing found" whenever its reserve never arrived, which
// must not lock out an office of machines behind one address.
func (s *Server) handleSettle(w http.ResponseWriter, r *http.Request) {
	at := s.newAttempt()
	defer at.end()
	if !at.admitAddr(w, r) {
		return
	}
	var req api.SettleRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !api.ValidName(req.IdempotencyKey) {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("idempotency_key is required (up to 128 letters, digits, '.', '_' or '-')"))
		return
	}
	res, ent, err := s.Store.ReservationByKey(r.Context(), req.IdempotencyKey)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !installerKey(req.IdempotencyKey) {
			at.fail()
		}
		writeError(w, r, http.StatusNotFound, api.CodeNotFound,
			i18n.M("no reservation was made with this idempotency key: the reserve never reached the server, and nothing is held"))
		return
	case err != nil:
		s.internalError(w, r, "looking up reservation", err)
		return
	}
	at.succeed()
	outcome := metrics.OutcomeAnswered
	if req.Release && res.State == api.StateHeld {
		now := s.Now.UTC()
		released, rent, err := s.Store.Release(r.Context(), res.ID, now)
		switch {
		case errors.Is(err, store.ErrConflict):
			// Completed meanwhile: answered as it now is, consumed.
			if res, ent, err = s.Store.ReservationByKey(r.Context(), req.IdempotencyKey); err != nil {
				s.internalError(w, r, "looking up reservation", err)
				return
			}
		case err != nil:
			s.storeError(w, r, err, "", "")
			return
		default:
			res, ent = released, rent
			outcome = finishOutcome(metrics.OutcomeReleased, res, now)
		}
	}
	metrics.NoteOutcome(r, outcome)
	s.logger().Info("settled", "reservation", res.ID, "customer", ent.Customer, "state", res.State, "remaining", ent.Remaining)
	writeJSON(w, http.StatusOK, reservationResponse(res, ent))
}

// installerKey reports whether key has the shape the installer makes
// (journal.NewIdempotencyKey): "k_" and 32 lowercase hex digits.
func installerKey(key string) bool {
	hex, ok := strings.CutPrefix(key, "k_")
	if !ok || len(hex) != 32 {
		return false
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
