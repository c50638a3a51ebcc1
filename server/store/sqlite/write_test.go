package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/aktual/aktual/server/store"
)

// holdToken takes the write token, so that writes queue, and returns the
// function that gives it back once n writes wait.
func holdToken(t *testing.T, s *Store) (release func(n int)) {
	t.Helper()
	s.writer <- struct{}{}
	return func(n int) {
		t.Helper()
		waitQueued(t, s, n)
		<-s.writer
	}
}

// scratch makes a table for writes that only the test reads.
func scratch(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.db.Exec(`CREATE TABLE scratch (name TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
}

func scratchNames(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	rows, err := s.db.Query(`SELECT name FROM scratch`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names[n] = true
	}
	return names
}

func insertScratch(name string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scratch (name) VALUES (?)`, name)
		return err
	}
}

var errRefused = errors.New("refused after writing")

// TestWritesQueuedTogetherCommitOnceEachInItsOwnRight: writes that queue
// while the token is held are committed in one transaction, and one that
// fails after it wrote leaves nothing behind while the others stay.
func TestWritesQueuedTogetherCommitOnceEachInItsOwnRight(t *testing.T) {
	s := openTemp(t)
	scratch(t, s)
	batches := s.writes.batches.Load()
	release := holdToken(t, s)

	const n = 10
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("w%d", i)
			results[i] = s.write(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
				if err := insertScratch(name)(ctx, tx); err != nil {
					return err
				}
				if i%3 == 0 {
					return fmt.Errorf("write %d: %w", i, errRefused) // after its insert
				}
				return nil
			})
		})
	}
	release(n)
	wg.Wait()

	if got := s.writes.batches.Load() - batches; got != 1 {
		t.Errorf("%d writes queued together took %d transactions, want 1", n, got)
	}
	names := scratchNames(t, s)
	for i, err := range results {
		name := fmt.Sprintf("w%d", i)
		if i%3 == 0 {
			if !errors.Is(err, errRefused) {
				t.Errorf("write %d: error %v, want its own", i, err)
			}
			if names[name] {
				t.Errorf("write %d failed but its row was committed", i)
			}
			continue
		}
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
		if !names[name] {
			t.Errorf("write %d succeeded but its row is missing", i)
		}
	}
}

// TestLaterWritesSeeEarlierOnes: in a batch each write sees the writes
// before it, so a constraint between them holds as if each committed
// alone: the second insert of one name fails, the first stays.
func TestLaterWritesSeeEarlierOnes(t *testing.T) {
	s := openTemp(t)
	scratch(t, s)
	release := holdToken(t, s)
	errs := make(chan error, 2)
	go func() { errs <- s.write(t.Context(), insertScratch("same")) }()
	release(1)
	// A second one queued behind the first may or may not share its
	// batch; either way exactly one of the two wins.
	go func() { errs <- s.write(t.Context(), insertScratch("same")) }()
	failed := 0
	for range 2 {
		if err := <-errs; err != nil {
			if !isUniqueViolation(err) {
				t.Errorf("error %v, want a UNIQUE violation", err)
			}
			failed++
		}
	}
	if failed != 1 || len(scratchNames(t, s)) != 1 {
		t.Errorf("%d of two inserts of one name failed and %d rows exist, want 1 and 1", failed, len(scratchNames(t, s)))
	}
}

// TestAGivenUpWriteIsNotRun: a write whose caller has gone before its
// batch starts is not run, and the others commit.
func TestAGivenUpWriteIsNotRun(t *testing.T) {
	s := openTemp(t)
	scratch(t, s)
	release := holdToken(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, 2)
	go func() { errs <- s.write(ctx, insertScratch("gone")) }()
	go func() { errs <- s.write(t.Context(), insertScratch("stays")) }()
	// Both queued; then the first caller gives up while the token is held.
	waitQueued(t, s, 2)
	cancel()
	release(1)
	var gotCanceled int
	for range 2 {
		if err := <-errs; errors.Is(err, context.Canceled) {
			gotCanceled++
		} else if err != nil {
			t.Error(err)
		}
	}
	if names := scratchNames(t, s); gotCanceled != 1 || names["gone"] || !names["stays"] {
		t.Errorf("canceled %d, rows %v: want the given-up write not run and the other committed", gotCanceled, names)
	}
}

// TestACancelDuringAWriteDoesNotStopIt: once running, a write is not
// interrupted by its caller's cancellation, which would roll back the
// writes of others in the same transaction.
func TestACancelDuringAWriteDoesNotStopIt(t *testing.T) {
	s := openTemp(t)
	scratch(t, s)
	release := holdToken(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, 2)
	go func() {
		errs <- s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			cancel()
			return insertScratch("cancelled-while-running")(ctx, tx)
		})
	}()
	go func() { errs <- s.write(t.Context(), insertScratch("neighbour")) }()
	release(2)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if names := scratchNames(t, s); !names["cancelled-while-running"] || !names["neighbour"] {
		t.Errorf("rows %v: want both", names)
	}
}

// TestAPanickingWriteFailsItsBatchOnly: the others in its transaction get
// an error, the token comes back, and the store goes on working.
func TestAPanickingWriteFailsItsBatchOnly(t *testing.T) {
	s := openTemp(t)
	scratch(t, s)
	release := holdToken(t, s)
	errs := make(chan error, 2)
	go func() { errs <- s.write(t.Context(), insertScratch("before-panic")) }()
	go func() {
		errs <- s.write(t.Context(), func(context.Context, *sql.Tx) error { panic("bug") })
	}()
	release(2)
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a write in a batch that panicked succeeded")
		}
	}
	if names := scratchNames(t, s); len(names) != 0 {
		t.Errorf("rows %v after the batch panicked, want none", names)
	}
	if err := s.write(t.Context(), insertScratch("after")); err != nil {
		t.Fatalf("the store after a panic: %v", err)
	}
}

// TestGroupCommitKeepsTheLedger: many reserves and completes at once on
// few entitlements, through batches: every unit is accounted for, none is
// spent twice, and the audit is clean.
func TestGroupCommitKeepsTheLedger(t *testing.T) {
	s := openTemp(t)
	const (
		customers = 4
		units     = 25
		clients   = 48
		tries     = 8
	)
	creds := make([]store.Credential, customers)
	for i := range creds {
		_, creds[i] = activate(t, s, fmt.Sprintf("customer-%d", i), units)
	}
	var (
		mu                  sync.Mutex
		reserved, exhausted int
		completed           int64
		ids                 = map[string]bool{}
	)
	batches := s.writes.batches.Load()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range tries {
				p := reserve(creds[c%customers], fmt.Sprintf("k-%d-%d", c, i))
				r, _, err := s.Reserve(t.Context(), p)
				if errors.Is(err, store.ErrExhausted) {
					mu.Lock()
					exhausted++
					mu.Unlock()
					continue
				} else if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 { // the rest are released
					_, _, err = s.Complete(t.Context(), r.ID, t0)
				} else {
					_, _, err = s.Release(t.Context(), r.ID, t0)
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				reserved++
				if i%2 == 0 {
					completed++
				}
				if ids[r.ID] {
					t.Errorf("reservation %s handed out twice", r.ID)
				}
				ids[r.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if reserved+exhausted != clients*tries {
		t.Errorf("%d reserved + %d exhausted, want %d in all", reserved, exhausted, clients*tries)
	}
	var consumed int64
	for _, c := range creds {
		e, err := s.Entitlement(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if e.Remaining+e.Held+e.Consumed != units || e.Held != 0 {
			t.Errorf("%s: remaining %d held %d consumed %d of %d", e.Customer, e.Remaining, e.Held, e.Consumed, units)
		}
		consumed += e.Consumed
	}
	// Every completion consumed one unit, and nothing else did. (Not
	// always every unit: a unit released by the last client to hold it,
	// after the others ran out of tries, stays remaining.)
	if consumed != completed {
		t.Errorf("consumed %d, want the %d completed", consumed, completed)
	}
	if completed < int64(customers*units)/2 {
		t.Errorf("only %d of %d units completed: the clients barely raced", completed, customers*units)
	}
	if v, err := s.Audit(t.Context()); err != nil || len(v) != 0 {
		t.Errorf("audit: %v %v", v, err)
	}
	t.Logf("%d writes in %d transactions", s.writes.written.Load(), s.writes.batches.Load()-batches)
}
