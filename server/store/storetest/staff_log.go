package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/server/store"
)

// The shared throttle and the audit log.

func testThrottle(t *testing.T, s store.Store) {
	const key = "login:anna"
	hit := func(at time.Duration) store.ThrottleResult {
		t.Helper()
		r, err := s.Hit(t.Context(), key, time.Minute, t0.Add(at))
		if err != nil {
			t.Fatalf("Hit: %v", err)
		}
		return r
	}
	wantResult := func(what string, got store.ThrottleResult, n int, reset time.Time) {
		t.Helper()
		if got.Count != n || !got.ResetAt.Equal(reset) {
			t.Errorf("%s: %d until %v, want %d until %v", what, got.Count, got.ResetAt, n, reset)
		}
	}
	wantResult("first hit", hit(0), 1, t0.Add(time.Minute))
	wantResult("second hit", hit(10*time.Second), 2, t0.Add(time.Minute))
	for range 2 {
		got, err := s.Throttle(t.Context(), key, t0.Add(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		wantResult("Throttle (counts nothing)", got, 2, t0.Add(time.Minute))
	}
	// The window starts at the first hit and is over at its end.
	wantResult("hit at the window's end", hit(time.Minute), 1, t0.Add(2*time.Minute))
	wantResult("hit in the new window", hit(90*time.Second), 2, t0.Add(2*time.Minute))
	if got, err := s.Throttle(t.Context(), key, t0.Add(2*time.Minute)); err != nil || got != (store.ThrottleResult{}) {
		t.Errorf("Throttle after the window: %+v, %v; want nothing", got, err)
	}
	if got, err := s.Throttle(t.Context(), "ip:203.0.113.9", t0); err != nil || got != (store.ThrottleResult{}) {
		t.Errorf("Throttle of an unknown key: %+v, %v", got, err)
	}
	if err := s.ClearThrottle(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Throttle(t.Context(), key, t0.Add(90*time.Second)); err != nil || got.Count != 0 {
		t.Errorf("Throttle after clearing: %+v, %v", got, err)
	}
	wantResult("hit after clearing", hit(100*time.Second), 1, t0.Add(160*time.Second))
	if err := s.ClearThrottle(t.Context(), "never hit"); err != nil {
		t.Errorf("clearing an unknown key: %v", err)
	}
	if _, err := s.Hit(t.Context(), key, 0, t0); err == nil {
		t.Error("a hit with no window was accepted")
	}
}

// testThrottleConcurrent: hits on one key at once are each counted once.
func testThrottleConcurrent(t *testing.T, s store.Store) {
	hitConcurrently(t, []store.Store{s}, 8, 25)
}

// hitConcurrently hits one key workers×hits times at once, spread over
// stores, and checks that each hit got its own count and the total is
// exact.
func hitConcurrently(t *testing.T, stores []store.Store, workers, hits int) {
	const key = "ip:198.51.100.23"
	var (
		mu     sync.Mutex
		counts []int
		wg     sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for range hits {
				r, err := stores[w%len(stores)].Hit(t.Context(), key, time.Hour, t0)
				if err != nil {
					t.Errorf("Hit: %v", err)
					return
				}
				mu.Lock()
				counts = append(counts, r.Count)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(counts)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("counts seen %v: want each of 1…%d once", counts, workers*hits)
		}
	}
	got, err := stores[0].Throttle(t.Context(), key, t0.Add(time.Minute))
	if err != nil || got.Count != workers*hits || !got.ResetAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after %d hits: %+v, %v", workers*hits, got, err)
	}
}

func testEvents(t *testing.T, s store.Store) {
	addDistributor(t, s, "D1")
	mustActivateStaff(t, s, staffActivation("Acme", "D1", 1)) // an "activate" at t0
	mustActivateStaff(t, s, staffActivation("Globex", "", 1))
	for i, e := range []store.AuditEvent{
		{Actor: "staff:anna", Address: "192.0.2.5", Action: "login", Detail: "TOTP", At: t0.Add(time.Hour)},
		{Actor: "staff:anna", Action: "login.failed", At: t0.Add(2 * time.Hour)},
		{Actor: "token:ci@anna", Action: "export", Customer: "Acme", Reason: "quarterly", At: t0.Add(3 * time.Hour)},
	} {
		if err := s.RecordEvent(t.Context(), e); err != nil {
			t.Fatalf("RecordEvent %d: %v", i, err)
		}
	}
	all := wantActions(t, s, store.AuditQuery{}, "distributor.add", "activate", "activate", "login", "login.failed", "export")
	if e := all[2]; e.Actor != "staff:anna" || e.Address != "192.0.2.5" || e.Detail != "TOTP" || !e.At.Equal(t0.Add(time.Hour)) ||
		e.Customer != "" || e.EntitlementID != 0 {
		t.Errorf("login event %+v", e)
	}
	if e := all[0]; e.Customer != "Acme" || e.Reason != "quarterly" || e.ID <= all[1].ID {
		t.Errorf("export event %+v: want the newest first", e)
	}
	wantActions(t, s, store.AuditQuery{Customer: "Acme"}, "activate", "export")
	wantActions(t, s, store.AuditQuery{Actor: "staff:anna"}, "login", "login.failed")
	wantActions(t, s, store.AuditQuery{Distributor: "D1"}, "activate", "export")
	wantActions(t, s, store.AuditQuery{Distributor: "D2"})
	wantActions(t, s, store.AuditQuery{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, "login", "login.failed")

	// Pages of two, newest first.
	var pages [][]string
	q := store.AuditQuery{Limit: 2}
	for range 4 {
		evs, next, err := s.Events(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, actions(evs))
		if next == 0 {
			break
		}
		q.Before = next
	}
	if len(pages) != 3 || !slices.Equal(pages[0], []string{"login.failed", "export"}) || !slices.Equal(pages[2], []string{"distributor.add", "activate"}) {
		t.Errorf("pages %q", pages)
	}
	for _, bad := range []store.AuditEvent{{Action: "login"}, {Actor: "staff:anna"}, {Actor: " ", Action: "login"}} {
		if err := s.RecordEvent(t.Context(), bad); err == nil {
			t.Errorf("RecordEvent(%+v) was accepted", bad)
		}
	}
	// Acme moves to D2: D2 reads what happens from now on, D1 keeps what
	// happened while Acme was its customer.
	addDistributor(t, s, "D2")
	if _, err := s.UpdateCustomer(t.Context(), store.Customer{Name: "Acme", Distributor: "D2"}, admin); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordEvent(t.Context(), store.AuditEvent{Actor: "staff:dora", Action: "export", Customer: "Acme", At: t0.Add(4 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	wantActions(t, s, store.AuditQuery{Distributor: "D1"}, "activate", "export")
	wantActions(t, s, store.AuditQuery{Distributor: "D2"}, "customer", "export")
}

// testEventsPageLimit: a page holds at most store.MaxEventPage.
func testEventsPageLimit(t *testing.T, s store.Store) {
	for range store.MaxEventPage + 1 {
		if err := s.RecordEvent(t.Context(), store.AuditEvent{Actor: "staff:anna", Action: "login"}); err != nil {
			t.Fatal(err)
		}
	}
	evs, next, err := s.Events(t.Context(), store.AuditQuery{Limit: 1000})
	if err != nil || len(evs) != store.MaxEventPage || next != evs[len(evs)-1].ID {
		t.Fatalf("Limit 1000: %d events, next %d, %v", len(evs), next, err)
	}
	if evs, next, err := s.Events(t.Context(), store.AuditQuery{Before: next}); err != nil || len(evs) != 1 || next != 0 {
		t.Errorf("the last page: %d events, next %d, %v", len(evs), next, err)
	}
	if evs, _, err := s.Events(t.Context(), store.AuditQuery{}); err != nil || len(evs) != store.DefaultEventPage {
		t.Errorf("the default page: %d events, %v", len(evs), err)
	}
}
