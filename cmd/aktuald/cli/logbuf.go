package cli

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aktual/aktual/server"
)

// The request log is the one line aktuald writes for every request, and
// writing each line on its own costs a system call per request under the
// handler's lock, where the requests queue: about a fifth of the
// throughput of a cheap endpoint. Request lines are therefore gathered in
// memory and written together, at most --log-flush-interval after the
// first of them (or when logBufferSize bytes wait). Every other record — a
// warning, an error, the server starting or stopping — is written at
// once, with the request lines before it, so the log stays in order and
// what an operator waits for is never held back. A crash can lose the
// request lines of the last interval; the metrics count them anyway.

// logBufferSize is the most that waits before it is written.
const logBufferSize = 64 << 10

// DefaultLogFlushInterval is --log-flush-interval's default.
const DefaultLogFlushInterval = 100 * time.Millisecond

// maxLogFlushInterval bounds --log-flush-interval: a longer wait makes
// tailing the log useless and risks more lines on a crash.
const maxLogFlushInterval = 10 * time.Second

// logBuffer is an io.Writer that holds what it is given until Flush, a
// timer, or a full buffer. Safe for concurrent use.
type logBuffer struct {
	mu       sync.Mutex
	w        io.Writer
	buf      []byte
	interval time.Duration
	timer    *time.Timer // armed while buf holds something
	armed    bool
}

func newLogBuffer(w io.Writer, interval time.Duration) *logBuffer {
	b := &logBuffer{w: w, interval: interval, buf: make([]byte, 0, logBufferSize)}
	b.timer = time.AfterFunc(time.Hour, func() { b.Flush() })
	b.timer.Stop()
	return b
}

// Write buffers p; one record at a time, as slog's handlers write.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > cap(b.buf) {
			return b.w.Write(p)
		}
	}
	b.buf = append(b.buf, p...)
	if !b.armed {
		b.armed = true
		b.timer.Reset(b.interval)
	}
	return len(p), nil
}

// Flush writes what waits.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *logBuffer) flushLocked() error {
	if b.armed {
		b.timer.Stop()
		b.armed = false
	}
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0] // a log that cannot be written drops, never blocks
	return err
}

// flushingHandler passes records to h, which writes to buf, and flushes
// buf after every record that is not a request line or is a warning or
// worse (see the comment at the top).
type flushingHandler struct {
	slog.Handler
	buf *logBuffer
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Message != server.RequestLogMessage || r.Level >= slog.LevelWarn {
		if ferr := h.buf.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.buf}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf}
}
