package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipelined runs fn in one READ COMMITTED transaction, as write does, but
// one whose BEGIN goes out with its first statements and whose COMMIT with
// its last: pgx sends a batch of statements in one round trip, and every
// round trip costs CPU in pgx and in a backend (docs/benchmarks.md). A
// transaction that reads, lets Go decide, then writes is two round trips.
//
// fn sends its statements with t.send and may send its last ones with
// t.commit; when it returns nil without having done so, pipelined commits.
// When fn fails, the transaction is rolled back and fn's error returned
// unchanged. A serialization failure or deadlock runs fn again (see retry),
// so fn must start from nothing each time.
func (s *Store) pipelined(ctx context.Context, fn func(t *pipeTx) error) error {
	return s.retry(ctx, func() error {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("beginning transaction: %w", err)
		}
		defer conn.Release()
		t := &pipeTx{conn: conn}
		err = fn(t)
		if err == nil && t.begun && !t.ended {
			err = t.commit(ctx, nil)
		}
		// The pool destroys a connection given back inside a transaction.
		if c := conn.Conn(); !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
			_, _ = c.Exec(context.WithoutCancel(ctx), "rollback")
		}
		return err
	})
}

// pipeTx is the transaction pipelined runs fn in. It begins with the first
// batch sent and ends with t.commit.
type pipeTx struct {
	conn         *pgxpool.Conn
	begun, ended bool
}

// send runs the statements queue puts in a batch, in the transaction, in
// one round trip. The callbacks of the queued statements (pgx.QueuedQuery's
// QueryRow, Query, Exec) read their results; an error from one, or from
// PostgreSQL, is send's error. A callback should not return an error for
// an answer it expects (no row, say): pgx then forgets the batch's
// prepared statements, and preparing them again costs a round trip.
func (t *pipeTx) send(ctx context.Context, queue func(b *pgx.Batch)) error {
	return t.run(ctx, queue, false)
}

// commit is send followed by COMMIT in the same round trip: whatever the
// statements do is committed, unless PostgreSQL refuses one (then nothing
// is). So they must leave nothing half-done whatever they find, which one
// statement whose later parts depend on the earlier parts' RETURNING does.
// An error from a callback (a row that does not scan) comes after the
// COMMIT was sent and ran: the transaction is committed all the same, so
// its writes must be safe to find committed when the caller saw an error,
// as an idempotency key makes a reserve's.
func (t *pipeTx) commit(ctx context.Context, queue func(b *pgx.Batch)) error {
	return t.run(ctx, queue, true)
}

func (t *pipeTx) run(ctx context.Context, queue func(b *pgx.Batch), commit bool) error {
	if t.ended {
		return errors.New("the transaction has already ended")
	}
	b := &pgx.Batch{}
	if !t.begun {
		b.BeginTx(pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
		t.begun = true
	}
	if queue != nil {
		queue(b)
	}
	if commit {
		t.ended = true
		b.Queue("commit").Exec(func(tag pgconn.CommandTag) error {
			if tag.String() != "COMMIT" {
				return fmt.Errorf("committing transaction: %w", pgx.ErrTxCommitRollback)
			}
			return nil
		})
	}
	return t.conn.SendBatch(ctx, b).Close()
}
