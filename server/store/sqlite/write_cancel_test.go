package sqlite

import (
	"context"
	"database/sql/driver"
	"sync/atomic"
	"testing"
	"time"

	sqlite "modernc.org/sqlite"
)

// hangUpHook, when set, is called once by the SQL function hang_up(): a
// deterministic way to have a caller hang up while its write's UPDATE is
// running inside a shared batch.
var hangUpHook atomic.Pointer[context.CancelFunc]

func init() {
	sqlite.MustRegisterScalarFunction("hang_up", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		if cancel := hangUpHook.Swap(nil); cancel != nil {
			(*cancel)()
			time.Sleep(50 * time.Millisecond) // the driver's watcher interrupts meanwhile
		}
		return int64(1), nil
	})
}

// TestACallerHangingUpDuringCompleteDoesNotFailItsBatch: group commit
// promises that a write's caller giving up once it runs neither interrupts
// it nor fails the other writes of its transaction (write.go). Had the
// Complete's statements run with its caller's context (as its step once
// did), the driver would interrupt the move's UPDATE when that context
// ends, SQLite would roll back the whole transaction, and every other
// write of the batch would fail with it.
func TestACallerHangingUpDuringCompleteDoesNotFailItsBatch(t *testing.T) {
	s := openTemp(t)
	_, c := activate(t, s, "hangup", 3)
	r, _, err := s.Reserve(t.Context(), reserve(c, "k-hangup"))
	if err != nil {
		t.Fatal(err)
	}
	scratch(t, s)
	for _, q := range []string{
		`CREATE TABLE slow_rows (x INTEGER)`,
		`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000) INSERT INTO slow_rows SELECT x FROM n`,
		`CREATE TRIGGER slow_update AFTER UPDATE ON entitlements BEGIN SELECT hang_up() FROM slow_rows; END`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	release := holdToken(t, s)
	neighbour := make(chan error, 1)
	go func() { neighbour <- s.write(t.Context(), insertScratch("neighbour")) }()
	waitQueued(t, s, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	hangUpHook.Store(&cancel)
	completed := make(chan error, 1)
	go func() {
		_, _, err := s.Complete(ctx, r.ID, t0)
		completed <- err
	}()
	release(2)

	if err := <-completed; err != nil {
		t.Errorf("a Complete whose caller hung up while it ran: %v, want it done", err)
	}
	if err := <-neighbour; err != nil {
		t.Errorf("a write batched with a Complete whose caller hung up failed: %v", err)
	}
	if !scratchNames(t, s)["neighbour"] {
		t.Errorf("the neighbouring write was not committed")
	}
}

func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.writes.mu.Lock()
		queued := len(s.writes.ops)
		s.writes.mu.Unlock()
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}
