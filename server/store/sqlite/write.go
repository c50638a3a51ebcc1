package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
)

// Group commit. A commit waits for the disk (synchronous=FULL: a
// reservation answered must survive a power cut), and SQLite has one
// writer at a time, so one transaction per request caps a busy server at
// the disk's synchronous writes per second, with the CPU mostly idle.
// Instead, the writer that holds the write token runs every write that
// queued meanwhile in the same transaction, each in a savepoint of its
// own, and commits once for all of them:
//
//   - A write that fails is rolled back to its savepoint, and only it
//     fails: the others commit, as if each had had its own transaction.
//   - No write is answered before the commit that holds it has returned,
//     and when that commit fails every write in it fails.
//   - The writes of a batch run one after another, in the order they
//     arrived; each sees what the ones before it wrote, as it would had
//     they committed first.
//   - A write whose caller gave up before it started is not run. Once
//     started it runs to its end, with its context's values but not its
//     cancellation: an interrupted statement can roll back the whole
//     transaction, which would fail the writes of others. So a write
//     must run its statements with the context write gives it, never
//     one it captured from its caller.
//   - An error that ends the whole transaction (the disk full, an I/O
//     error) fails every write of the batch with it.
//
// A lone write runs without a savepoint, exactly as before.

// maxBatch bounds the writes committed together, so that one batch holds
// the write lock for milliseconds at most.
const maxBatch = 64

// writeOp is one call of write, waiting in the queue or running.
type writeOp struct {
	ctx  context.Context
	fn   func(context.Context, *sql.Tx) error
	done chan error // receives the result, once
}

// writeQueue holds the writes waiting for the token. The zero value is
// ready to use.
type writeQueue struct {
	mu  sync.Mutex
	ops []*writeOp
	// Counted for tests and for the benchmarks' notes.
	batches, written atomic.Int64
}

// write runs fn in an IMMEDIATE transaction (see the package comment),
// perhaps together with other writes (see the top of this file), and
// returns fn's error unchanged, so sentinels survive, or the error that
// kept the transaction from committing. fn must use the context it is
// given, not its caller's.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.writes.push(op)
	for {
		select {
		case err := <-op.done:
			return err
		case s.writer <- struct{}{}:
			// The token: commit what waits, ours among it unless a
			// writer before us already did (its result is in op.done).
			s.commitQueued()
			<-s.writer
		case <-ctx.Done():
			if s.writes.remove(op) {
				return ctx.Err()
			}
			return <-op.done // already running: its result is coming
		}
	}
}

func (q *writeQueue) push(op *writeOp) {
	q.mu.Lock()
	q.ops = append(q.ops, op)
	q.mu.Unlock()
}

// remove takes op out of the queue; false when it was no longer there.
func (q *writeQueue) remove(op *writeOp) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, o := range q.ops {
		if o == op {
			q.ops = append(q.ops[:i], q.ops[i+1:]...)
			return true
		}
	}
	return false
}

// take removes up to maxBatch writes from the front of the queue.
func (q *writeQueue) take() []*writeOp {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.ops), maxBatch)
	batch := make([]*writeOp, n)
	copy(batch, q.ops)
	q.ops = append(q.ops[:0], q.ops[n:]...)
	return batch
}

// commitQueued runs the writes at the front of the queue as one batch.
// The caller holds the write token.
func (s *Store) commitQueued() {
	var live []*writeOp
	for _, op := range s.writes.take() {
		if err := op.ctx.Err(); err != nil {
			op.done <- err // its caller has gone: not run
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	results := s.runBatch(live)
	s.writes.batches.Add(1)
	s.writes.written.Add(int64(len(live)))
	for i, op := range live {
		op.done <- results[i]
	}
}

// runBatch runs ops in one transaction and returns each one's result.
func (s *Store) runBatch(ops []*writeOp) (results []error) {
	results = make([]error, len(ops))
	fail := func(err error) []error {
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
		return results
	}
	// Not any caller's context: the transaction is all of theirs.
	bg := context.Background()
	tx, err := s.db.BeginTx(bg, nil) // BEGIN IMMEDIATE, from _txlock
	if err != nil {
		return fail(fmt.Errorf("beginning transaction: %w", err))
	}
	defer func() {
		// A write that panics fails the batch, not the process: the
		// others are answered and the token goes back.
		if p := recover(); p != nil {
			_ = tx.Rollback()
			results = fail(fmt.Errorf("a write in the same transaction panicked: %v", p))
		}
	}()
	if len(ops) == 1 {
		if err := ops[0].fn(context.WithoutCancel(ops[0].ctx), tx); err != nil {
			_ = tx.Rollback()
			results[0] = err
			return results
		}
	} else {
		for i, op := range ops {
			if err := op.ctx.Err(); err != nil {
				results[i] = err // its caller left while the writes before it ran
				continue
			}
			if _, err := tx.ExecContext(bg, "SAVEPOINT write"); err != nil {
				_ = tx.Rollback()
				return fail(fmt.Errorf("beginning a write in the shared transaction: %w", err))
			}
			if err := op.fn(context.WithoutCancel(op.ctx), tx); err != nil {
				results[i] = err
				if _, rerr := tx.ExecContext(bg, "ROLLBACK TO write"); rerr != nil {
					// SQLite ended the whole transaction.
					_ = tx.Rollback()
					return fail(fmt.Errorf("committing transaction: rolled back with a write that failed (%v): %w", err, rerr))
				}
			}
			if _, err := tx.ExecContext(bg, "RELEASE write"); err != nil {
				_ = tx.Rollback()
				return fail(fmt.Errorf("committing transaction: %w", err))
			}
		}
		if allFailed(results) {
			_ = tx.Rollback()
			return results
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("committing transaction: %w", err))
	}
	return results
}

func allFailed(results []error) bool {
	for _, err := range results {
		if err == nil {
			return false
		}
	}
	return true
}
