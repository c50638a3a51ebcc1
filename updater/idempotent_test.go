package updater

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/updater/internal/fetch"

	"github.com/aktual/aktual/api"
)

// A replica dies in the middle of the reserve and of the complete: the
// first time after it did the work (the answer is lost), then before (the
// balancer answers 502). The client sends each again at once, reaches a
// live replica, and one run finishes with exactly one update used.
func TestReserveAndCompleteRepeatedAfterLostAnswers(t *testing.T) {
	h := newHarness(t, 3)
	h.u.RetryDelay = time.Millisecond
	var (
		mu    sync.Mutex
		calls = map[string]int{}
	)
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kind := ""
			switch {
			case r.Method == "POST" && r.URL.Path == "/v1/reservations":
				kind = "reserve"
			case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/complete"):
				kind = "complete"
			}
			mu.Lock()
			calls[kind]++
			n := calls[kind]
			mu.Unlock()
			switch {
			case kind != "" && n == 1:
				// The replica did the work, then died before answering.
				next.ServeHTTP(httptest.NewRecorder(), r)
				panic(http.ErrAbortHandler)
			case kind != "" && n == 2:
				// The balancer found no live replica this instant.
				http.Error(w, "no healthy upstream", http.StatusBadGateway)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	res, err := h.update(h.code)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if res.Status != StatusUpdated {
		t.Fatalf("result %+v", res)
	}
	h.expect(h.v2, 2, 0, 1)
	if calls["reserve"] != 3 || calls["complete"] != 3 {
		t.Errorf("sent reserve %d and complete %d times, want 3 each", calls["reserve"], calls["complete"])
	}
	notices := 0
	for _, e := range h.events {
		if e.Event == EventNotice && strings.Contains(e.Message.String(), "sending it again") {
			notices++
		}
	}
	if notices != 4 {
		t.Errorf("%d notices of a repeat, want 4", notices)
	}
}

// A refusal is not repeated, and neither is a failure that outlasts the
// tries: the run ends as before (exit 3 for the reserve), the journal keeps
// the key, and the next run settles it without a second update.
func TestReserveRepeatsAreBounded(t *testing.T) {
	h := newHarness(t, 2)
	h.u.RetryDelay = time.Millisecond
	var mu sync.Mutex
	reserves := 0
	down := true
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			isDown := down
			if r.Method == "POST" && r.URL.Path == "/v1/reservations" {
				reserves++
			}
			mu.Unlock()
			if isDown && r.Method == "POST" && r.URL.Path == "/v1/reservations" {
				next.ServeHTTP(httptest.NewRecorder(), r) // done, answer lost
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	if _, err := h.update(h.code); err == nil {
		t.Fatal("update succeeded with every reserve answer lost")
	}
	if reserves != fetch.IdempotentTries {
		t.Errorf("reserve sent %d times, want %d", reserves, fetch.IdempotentTries)
	}
	h.expect(h.v1, 1, 1, 0) // one held: the same key each time
	mu.Lock()
	down = false
	mu.Unlock()
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("the next run: %v", err)
	}
	h.expect(h.v2, 1, 0, 1)

	// A refusal is final at once.
	reserves = 0
	h2 := newHarness(t, 1)
	h2.u.RetryDelay = time.Millisecond
	h2.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "POST" && r.URL.Path == "/v1/reservations" {
				mu.Lock()
				reserves++
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	unknown, err := api.NewCode() // well formed, but sold to no one
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h2.update(unknown.String()); !errors.Is(err, ErrCredentialRejected) {
		t.Fatalf("an unknown code: %v, want ErrCredentialRejected", err)
	}
	if reserves != 1 {
		t.Errorf("a refused reserve was sent %d times, want once", reserves)
	}
}
