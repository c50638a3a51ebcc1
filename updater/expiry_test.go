package updater

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/cmd/aktuald/cli"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
)

// testClock is a server clock the test moves by hand.
type testClock struct{ ns atomic.Int64 }

func newTestClock(start time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(start.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// testReservationTTL is short, so moving past it barely moves the clock the
// server also signs its "latest" answers with.
const testReservationTTL = time.Hour

// clockHarness is the harness with the server's clock in the test's hands
// and a short reservation TTL.
type clockHarness struct {
	*harness
	clock *testClock
}

// newClockHarness builds the usual harness, then serves it from a Server
// whose clock and reservation TTL the test sets; the harness's own
// loopback server is left unused.
func newClockHarness(t *testing.T, updates int64) *clockHarness {
	t.Helper()
	h := newHarness(t, updates)
	ch := &clockHarness{harness: h, clock: newTestClock(time.Now())}
	srv := server.New(h.inst, "test", nil)
	srv.Now, srv.ReservationTTL = ch.clock.Now, testReservationTTL
	handler := srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.wrap != nil {
			h.wrap(handler).ServeHTTP(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	h.ts, h.u.Server = ts, ts.URL
	return ch
}

// sweep runs the server's expiry sweep (what aktuald serve runs
// periodically) at the server clock's time and returns how many
// reservations it expired.
func (h *clockHarness) sweep() int {
	h.t.Helper()
	n, err := h.inst.Store.ExpireReservations(h.t.Context(), h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// expireAll moves the server clock past the reservation TTL and sweeps.
func (h *clockHarness) expireAll() int {
	h.t.Helper()
	h.clock.Advance(testReservationTTL + time.Second)
	return h.sweep()
}

func (h *clockHarness) reservationState(id string) string {
	h.t.Helper()
	r, err := h.inst.Store.Reservation(h.t.Context(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r.State
}

// storeCredential is the harness's code as the store knows it.
func (h *harness) storeCredential() store.Credential {
	h.t.Helper()
	code, err := api.ParseCode(h.code)
	if err != nil {
		h.t.Fatal(err)
	}
	return store.Credential{CodeHash: keyring.CodeHash(h.inst.Keys.CodeSecret, code)}
}

// ledgerKinds lists the kinds of the code's ledger rows, oldest first.
func (h *harness) ledgerKinds() []string {
	h.t.Helper()
	ent, err := h.inst.Store.Entitlement(h.t.Context(), h.storeCredential())
	if err != nil {
		h.t.Fatal(err)
	}
	rows, err := h.inst.Store.Ledger(h.t.Context(), ent.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	var kinds []string
	for _, r := range rows {
		kinds = append(kinds, r.Kind)
	}
	return kinds
}

// spendElsewhere reserves and completes n updates of the code on other
// machines, straight in the store.
func (h *clockHarness) spendElsewhere(n int) {
	h.t.Helper()
	ctx := h.t.Context()
	for i := range n {
		r, _, err := h.inst.Store.Reserve(ctx, store.ReserveParams{
			IdempotencyKey: fmt.Sprintf("elsewhere-%d", i),
			Credential:     h.storeCredential(),
			Series:         api.SeriesPro, Product: product, FromVersion: "1.0.0", ToVersion: "2.0.0",
			MachineID: fmt.Sprintf("m_other_%d", i), Now: h.clock.Now(), TTL: testReservationTTL,
		})
		if err != nil {
			h.t.Fatalf("spending elsewhere: %v", err)
		}
		if _, _, err := h.inst.Store.Complete(ctx, r.ID, h.clock.Now()); err != nil {
			h.t.Fatalf("spending elsewhere: %v", err)
		}
	}
}

// appliedButUnreported runs an update whose completion cannot reach the
// server and returns the reservation the journal keeps.
func (h *clockHarness) appliedButUnreported() string {
	h.t.Helper()
	h.wrap = failing("/complete")
	_, err := h.update(h.code)
	wantKind(h.t, err, ErrNotReported)
	j, _ := h.u.loadJournal(h.target)
	if j == nil || j.State != StateApplied || j.ReservationID == "" {
		h.t.Fatalf("journal = %+v, want applied with a reservation", j)
	}
	return j.ReservationID
}

// recoverOne runs recovery with the server reachable and wants exactly one
// journal finished with action.
func (h *clockHarness) recoverOne(action string) Recovered {
	h.t.Helper()
	h.wrap = nil
	recs, err := h.u.Recover(h.t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != action {
		h.t.Fatalf("recover = %+v, %v; want one %s", recs, err, action)
	}
	if j, _ := h.u.loadJournal(h.target); j != nil {
		h.t.Errorf("journal kept after recovery: %+v", j)
	}
	return recs[0]
}

// The completion could not be reported, and the reservation expired on the
// server before it was: the unit went back to remaining. The late
// completion re-takes one, so the update that was applied is paid for once.
func TestLateCompletionRetakesUnit(t *testing.T) {
	h := newClockHarness(t, 2)
	id := h.appliedButUnreported()
	h.expect(h.v2, 1, 1, 0)

	if n := h.sweep(); n != 0 {
		t.Fatalf("the sweep before the TTL expired %d reservations", n)
	}
	if n := h.expireAll(); n != 1 {
		t.Fatalf("the sweep after the TTL expired %d reservations, want 1", n)
	}
	if s := h.reservationState(id); s != api.StateExpired {
		t.Fatalf("reservation is %s, want expired", s)
	}
	h.expect(h.v2, 2, 0, 0) // given back by the server; the program is new

	rec := h.recoverOne(ActionReported)
	if res := rec.Result; res == nil || res.Status != StatusUpdated || res.Remaining == nil || *res.Remaining != 1 {
		t.Errorf("recovery result = %+v, want updated with 1 remaining", res)
	}
	h.expect(h.v2, 1, 0, 1)
	if st := h.counts(); st.Overdraft != 0 {
		t.Errorf("overdraft = %d, want 0", st.Overdraft)
	}
	if s := h.reservationState(id); s != api.StateConsumed {
		t.Errorf("reservation is %s, want consumed", s)
	}
	want := []string{store.LedgerPurchase, store.LedgerReserve, store.LedgerExpire, store.LedgerRetake}
	if got := h.ledgerKinds(); !slices.Equal(got, want) {
		t.Errorf("ledger = %v, want %v", got, want)
	}
	// A repeat changes nothing.
	if recs, _ := h.u.Recover(t.Context()); len(recs) != 0 {
		t.Fatalf("second recover = %+v", recs)
	}
	h.expect(h.v2, 1, 0, 1)
}

// As above, but the customer spent every unit on other machines in the
// meantime: the late completion is recorded as an overdraft for staff,
// never dropped, and consumes nothing that was not purchased.
func TestLateCompletionWithNothingLeftIsOverdraft(t *testing.T) {
	h := newClockHarness(t, 2)
	id := h.appliedButUnreported()
	if n := h.expireAll(); n != 1 {
		t.Fatalf("the sweep expired %d reservations, want 1", n)
	}
	h.spendElsewhere(2)
	h.expect(h.v2, 0, 0, 2)

	rec := h.recoverOne(ActionReported)
	if res := rec.Result; res == nil || res.Status != StatusUpdated || res.Remaining == nil || *res.Remaining != 0 {
		t.Errorf("recovery result = %+v, want updated with 0 remaining", res)
	}
	h.expect(h.v2, 0, 0, 2) // consumed unchanged by the late completion
	if st := h.counts(); st.Overdraft != 1 || st.Purchased != 2 {
		t.Errorf("counts %+v, want overdraft 1 of 2 purchased", st.Counts)
	}
	if s := h.reservationState(id); s != api.StateConsumed {
		t.Errorf("reservation is %s, want consumed", s)
	}
	if got := h.ledgerKinds(); len(got) == 0 || got[len(got)-1] != store.LedgerOverdraft {
		t.Errorf("ledger = %v, want it to end with %s", got, store.LedgerOverdraft)
	}

	// Staff see it in `aktuald admin show --json`.
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"admin", "show", "--data", string(h.inst.Dir), "--json", "--code", h.code},
		nil, &stdout, &stderr); code != 0 {
		t.Fatalf("admin show exit %d: %s", code, stderr.String())
	}
	var shown admin.Standing
	if err := json.Unmarshal(stdout.Bytes(), &shown); err != nil {
		t.Fatalf("admin show --json: %v\n%s", err, stdout.String())
	}
	if shown.Overdraft != 1 || shown.Consumed != 2 || shown.Remaining != 0 || shown.Held != 0 {
		t.Errorf("admin show = %s, want overdraft 1, consumed 2, remaining 0, held 0", stdout.String())
	}
	if !bytes.Contains(stdout.Bytes(), []byte(`"overdraft":1`)) {
		t.Errorf("admin show --json does not carry the overdraft: %s", stdout.String())
	}
}

// A run died after the reserve, before anything was staged, and the server
// expired the reservation before recovery ran: recovery's release is
// idempotent, so the unit is counted back once, not twice.
func TestAbandonedReservationExpiredBeforeRecovery(t *testing.T) {
	h := newClockHarness(t, 2)
	id := h.appliedButUnreported()
	// Back to the moment after the reserve was answered: journal at
	// "reserved", the target never touched, nothing staged.
	j, _ := h.u.loadJournal(h.target)
	j.State = StateReserved
	if err := h.u.save(j); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.target, h.v1, 0o755); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v1, 1, 1, 0)

	if n := h.expireAll(); n != 1 {
		t.Fatalf("the sweep expired %d reservations, want 1", n)
	}
	h.expect(h.v1, 2, 0, 0)

	h.recoverOne(ActionReleased)
	h.expect(h.v1, 2, 0, 0)
	if s := h.reservationState(id); s != api.StateExpired {
		t.Errorf("reservation is %s, want still expired", s)
	}
	want := []string{store.LedgerPurchase, store.LedgerReserve, store.LedgerExpire}
	if got := h.ledgerKinds(); !slices.Equal(got, want) {
		t.Errorf("ledger = %v, want %v (no second give-back)", got, want)
	}
	// The unit given back is usable: the next update takes it.
	res, err := h.update(h.code)
	if err != nil || res.Status != StatusUpdated {
		t.Fatalf("update after recovery = %+v, %v", res, err)
	}
	h.expect(h.v2, 1, 0, 1)
}
