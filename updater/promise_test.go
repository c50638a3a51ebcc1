package updater

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/journal"
)

// lostAnswer lets requests to path reach the server, then loses the answer:
// the client sees 502, the server has acted.
func lostAnswer(path string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == path {
				next.ServeHTTP(httptest.NewRecorder(), r)
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// answering replies status with an API error to requests whose path ends
// with suffix.
func answering(suffix string, status int, code string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, suffix) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				w.Write([]byte(`{"error":{"code":"` + code + `","message":"no such reservation"}}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestBusyTargetIsRefused(t *testing.T) {
	h := newHarness(t, 2)
	unlock, err := journal.Lock(h.target)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.update(h.code)
	unlock()
	wantKind(t, err, ErrBusy)
	h.expect(h.v1, 2, 0, 0)
}

// Runs racing on one target, even with different state directories (root
// and a user), apply one update and spend one unit.
func TestRacingRunsSpendOnce(t *testing.T) {
	h := newHarness(t, 5)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		u := *h.u
		u.StateDir = t.TempDir()
		u.Events = nil
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = u.Update(context.Background(), Request{
				CheckRequest: CheckRequest{Product: product, Target: h.target},
				Credential:   func(context.Context, *Plan) (api.Credential, error) { return api.Credential{Code: h.code}, nil },
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrBusy) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	h.expect(h.v2, 4, 0, 1)
}

// The reserve's answer was lost, and a newer release came out before the
// next run: the old reservation is given back, the new update takes one.
func TestStaleIntentIsSettled(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = lostAnswer("/v1/reservations")
	_, err := h.update(h.code)
	wantKind(t, err, ErrNoConnection)
	if j, _ := h.u.loadJournal(h.target); j == nil || j.State != StateIntent {
		t.Fatalf("journal = %+v", j)
	}
	h.expect(h.v1, 1, 1, 0) // the server holds one the client never heard of
	h.wrap = nil
	v3 := artifact("3.0.0")
	h.publish(product, "pro", "3.0.0", v3)
	res, err := h.update(h.code)
	if err != nil || res.To != "3.0.0" {
		t.Fatalf("update = %+v, %v", res, err)
	}
	h.expect(v3, 1, 0, 1)
}

// A completion the server refuses for good (it no longer knows the
// reservation) is not retried for ever: the journal goes, the message says
// whom to ask.
func TestCompletionRefusedForGood(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = answering("/complete", http.StatusNotFound, "not_found")
	res, err := h.update(h.code)
	if err == nil || errors.Is(err, ErrNotReported) || !strings.Contains(err.Error(), "contact your vendor, quoting reservation r_") {
		t.Fatalf("update = %+v, %v", res, err)
	}
	if j, _ := h.u.loadJournal(h.target); j != nil {
		t.Fatalf("journal kept: %+v", j)
	}
}

// An applied update is paid for even if its program was moved since.
func TestAppliedIsReportedAfterTargetMoved(t *testing.T) {
	h := newHarness(t, 2)
	h.wrap = failing("/complete")
	if _, err := h.update(h.code); !errors.Is(err, ErrNotReported) {
		t.Fatal(err)
	}
	os.Remove(h.target)
	h.wrap = nil
	recs, err := h.u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionReported {
		t.Fatalf("recover = %+v, %v", recs, err)
	}
	if st := h.counts(); st.Consumed != 1 || st.Held != 0 {
		t.Fatalf("counts %+v", st.Counts)
	}
}

// Ctrl-C just as the completion is sent: it is sent anyway, so the
// interruption leaves nothing held.
func TestInterruptAtCompletionStillReports(t *testing.T) {
	h := newHarness(t, 2)
	ctx, cancel := context.WithCancel(t.Context())
	h.u.Events = func(e Event) {
		if e.Phase == PhaseComplete {
			cancel()
		}
	}
	res, err := h.u.Update(ctx, Request{
		CheckRequest: CheckRequest{Product: product, Target: h.target},
		Credential:   func(context.Context, *Plan) (api.Credential, error) { return api.Credential{Code: h.code}, nil },
	})
	if err != nil || res.Status != StatusUpdated {
		t.Fatalf("update = %+v, %v", res, err)
	}
	h.expect(h.v2, 1, 0, 1)
}

// A network's login page answering in the server's place (200, HTML) is a
// connection problem, said as such, not a bad signature; nothing changes.
func TestLoginPageAnswering(t *testing.T) {
	h := newHarness(t, 1)
	h.wrap = func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>Please log in to the hotel Wi-Fi</body></html>")
		})
	}
	_, err := h.update(h.code)
	wantKind(t, err, ErrNoConnection)
	if !strings.Contains(err.Error(), "login page") || !strings.Contains(err.Error(), "netcheck") {
		t.Errorf("error %q does not name a login page and netcheck", err)
	}
	h.wrap = nil
	h.expect(h.v1, 1, 0, 0)
}

// A 5xx to a reserve is the server's trouble (exit 3), with its wait.
func TestReserveServerErrorIsTransient(t *testing.T) {
	h := newHarness(t, 1)
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/reservations") {
				w.Header().Set("Retry-After", "120")
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	_, err := h.update(h.code)
	wantKind(t, err, ErrNoConnection)
	if !strings.Contains(err.Error(), "try again in 120 seconds") {
		t.Errorf("error %q does not pass on the server's wait", err)
	}
	h.wrap = nil
	h.expect(h.v1, 1, 0, 0)
}
