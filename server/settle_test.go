package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/ratelimit"
)

// POST /v1/reservations/settle: what became of the reservation a reserve
// with this idempotency key made, given back when asked and still held.

const settlePath = "/v1/reservations/settle"

// clientKey is a key as the installer makes them: k_ and 32 hex digits.
func clientKey(i int) string { return fmt.Sprintf("k_%032x", i) }

func (f *fixture) settle(t *testing.T, key string, release bool) reply {
	t.Helper()
	return f.post(t, settlePath, mustJSON(t, api.SettleRequest{IdempotencyKey: key, Release: release}))
}

func wantSettled(t *testing.T, r reply, id, state string, remaining int64) {
	t.Helper()
	rr := decodeOK[api.ReservationResponse](t, r)
	if rr.Reservation.ID != id || rr.Reservation.State != state || rr.Remaining != remaining {
		t.Errorf("settled %+v remaining %d; want %s %s, remaining %d", rr.Reservation, rr.Remaining, id, state, remaining)
	}
}

func TestSettle(t *testing.T) {
	f := newFixture(t)
	f.publish(t, proApp, api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, proApp, api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)

	held := f.mustReserve(t, code, proApp, clientKey(1))
	before := f.standing(t, code)
	wantSettled(t, f.settle(t, clientKey(1), false), held.Reservation.ID, api.StateHeld, 2)
	f.wantUnchanged(t, code, before) // asking changes nothing

	// Given back: the ledger's release entry, as the release endpoint makes.
	wantSettled(t, f.settle(t, clientKey(1), true), held.Reservation.ID, api.StateReleased, 3)
	after := f.standing(t, code)
	if after.ledger != before.ledger+1 || after.Counts != counts(3, 3, 0, 0) {
		t.Errorf("after release: %+v, want one more ledger row and 3 remaining", after)
	}
	wantSettled(t, f.settle(t, clientKey(1), true), held.Reservation.ID, api.StateReleased, 3)
	decodeOK[api.ReservationResponse](t, f.release(t, held.Reservation.ID)) // the same as the release endpoint's repeat
	f.wantUnchanged(t, code, after)

	// Consumed stays consumed.
	done := f.mustReserve(t, code, proApp, clientKey(2))
	decodeOK[api.ReservationResponse](t, f.complete(t, done.Reservation.ID))
	before = f.standing(t, code)
	wantSettled(t, f.settle(t, clientKey(2), true), done.Reservation.ID, api.StateConsumed, 2)
	f.wantUnchanged(t, code, before)

	// Expired is answered as it is.
	late := f.mustReserve(t, code, proApp, clientKey(3))
	if _, err := f.inst.Store.ExpireReservations(context.Background(), time.Now().Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	before = f.standing(t, code)
	wantSettled(t, f.settle(t, clientKey(3), true), late.Reservation.ID, api.StateExpired, 2)
	f.wantUnchanged(t, code, before)
}

func TestSettleRefused(t *testing.T) {
	f := newFixture(t)
	f.publish(t, proApp, api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 1)
	before := f.standing(t, code)
	wantError(t, f.settle(t, clientKey(7), true), http.StatusNotFound, api.CodeNotFound)
	for _, body := range []string{
		`{"release": true}`,
		`{"idempotency_key": "k_ with spaces"}`,
		`{"idempotency_key": "` + fmt.Sprintf("%0129d", 0) + `"}`,
		`{"idempotency_key": "k_1", "extra": 1}`,
	} {
		wantError(t, f.post(t, settlePath, body), http.StatusBadRequest, api.CodeBadRequest)
	}
	f.wantUnchanged(t, code, before)
}

// TestSettleGuessingIsLimited: a key is a capability; lookups that find
// nothing are failed attempts of the address, which is then blocked
// (for settle and for every credential endpoint), while others are not.
// Keys of the installer's own shape (128 random bits) are not counted:
// no one guesses those, and recoveries whose reserve never arrived, many
// behind one office address, find nothing too.
func TestSettleGuessingIsLimited(t *testing.T) {
	clk := &testClock{}
	clk.Set(classicStart)
	f := newFixtureWith(t, func(s *server.Server) { s.Now = clk.Now })
	f.publish(t, proApp, api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 2)
	held := f.mustReserve(t, code, proApp, clientKey(1))
	office := clientFrom(t, f.url, "127.0.0.3")
	for i := range 3 * ratelimit.DefaultAllowance {
		wantError(t, office.post(t, f.url, settlePath, mustJSON(t, api.SettleRequest{IdempotencyKey: clientKey(1000 + i), Release: true})),
			http.StatusNotFound, api.CodeNotFound)
	}
	decodeOK[api.EntitlementStatus](t, office.post(t, f.url, queryPath, mustJSON(t, codeQuery(code, proApp))))
	attacker := clientFrom(t, f.url, "127.0.0.2")
	for i := range ratelimit.DefaultAllowance + 1 {
		wantError(t, attacker.post(t, f.url, settlePath, mustJSON(t, api.SettleRequest{IdempotencyKey: fmt.Sprintf("guess-%d", i)})),
			http.StatusNotFound, api.CodeNotFound)
	}
	// Blocked, the right key too: the block is no oracle.
	wantRateLimited(t, attacker.post(t, f.url, settlePath, mustJSON(t, api.SettleRequest{IdempotencyKey: clientKey(1)})),
		1, "this address")
	wantRateLimited(t, attacker.post(t, f.url, queryPath, mustJSON(t, codeQuery(code, proApp))), 1, "this address")
	wantSettled(t, f.settle(t, clientKey(1), false), held.Reservation.ID, api.StateHeld, 1)
	decodeOK[api.ReservationResponse](t, f.release(t, held.Reservation.ID))
}

// TestSettleAndInstallCounted: the new routes' outcomes are counted.
func TestSettleAndInstallCounted(t *testing.T) {
	f := newFixture(t)
	f.publish(t, proApp, api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, proApp, api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 1)
	f.mustReserve(t, code, proApp, clientKey(1))
	decodeOK[api.ReservationResponse](t, f.settle(t, clientKey(1), false))
	decodeOK[api.ReservationResponse](t, f.settle(t, clientKey(1), true))
	wantError(t, f.settle(t, clientKey(2), true), http.StatusNotFound, api.CodeNotFound)
	decodeOK[api.InstallResponse](t, f.post(t, installPath, mustJSON(t, installRequest(code, proApp))))
	wantError(t, f.post(t, installPath, mustJSON(t, installRequest(wrongCode(t), proApp))), http.StatusForbidden, api.CodeUnknownCredential)
	m := scrape(t, f.http, f.url)
	for key, want := range map[string]float64{
		`aktuald_settlements_total{outcome="answered"}`:                             1,
		`aktuald_settlements_total{outcome="released"}`:                             1,
		`aktuald_settlements_total{outcome="not_found"}`:                            1,
		`aktuald_install_answers_total{outcome="answered"}`:                         1,
		`aktuald_install_answers_total{outcome="unknown_credential"}`:               1,
		`aktuald_http_requests_total{code="200",method="POST",route="/v1/install"}`: 1,
	} {
		if got := m.values[key]; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
}
