package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/server"
)

// syncBuffer is stderr as the test reads it, while timers write to it.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Writes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writes
}

func bufferedLogger(t *testing.T, interval time.Duration) (*slog.Logger, *syncBuffer, func()) {
	t.Helper()
	out := &syncBuffer{}
	log, flush := serveOptions{logFormat: "text", logLevel: logLevel(slog.LevelInfo), logFlushInterval: interval}.logger(out)
	return log, out, flush
}

func logRequest(log *slog.Logger, level slog.Level, status int) {
	log.LogAttrs(context.Background(), level, server.RequestLogMessage, slog.String("route", "/v1/products/{product}/latest"), slog.Int("status", status))
}

func TestRequestLinesWaitForTheInterval(t *testing.T) {
	log, out, _ := bufferedLogger(t, 200*time.Millisecond)
	start := time.Now()
	for range 50 {
		logRequest(log, slog.LevelInfo, 200)
	}
	if got := out.String(); got != "" && time.Since(start) < 150*time.Millisecond {
		t.Fatalf("request lines written before the interval:\n%s", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "msg=request") < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s the log holds %d of 50 request lines", strings.Count(out.String(), "msg=request"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := out.Writes(); n != 1 {
		t.Errorf("50 request lines took %d writes, want 1", n)
	}
	// The timer is armed again by the next line.
	logRequest(log, slog.LevelInfo, 200)
	for strings.Count(out.String(), "msg=request") < 51 {
		if time.Now().After(deadline) {
			t.Fatal("a request line after the first flush was never written")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOtherLinesAreWrittenAtOnceAndInOrder(t *testing.T) {
	log, out, _ := bufferedLogger(t, time.Hour)
	logRequest(log, slog.LevelInfo, 404)
	logRequest(log, slog.LevelInfo, 200)
	if got := out.String(); got != "" {
		t.Fatalf("request lines written at once:\n%s", got)
	}
	log.Info("not accepting connections")
	want := []string{"status=404", "status=200", "not accepting connections"}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant %d lines", out.String(), len(want))
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %q, want it to say %q", i+1, lines[i], w)
		}
	}

	// A request that failed is an error: written at once, with what
	// waited before it.
	logRequest(log, slog.LevelInfo, 200)
	logRequest(log, slog.LevelError, 500)
	if got := strings.Count(out.String(), "msg=request"); got != 4 {
		t.Errorf("after a 500 the log holds %d request lines, want 4:\n%s", got, out.String())
	}
	// A warning on a derived logger flushes too.
	logRequest(log, slog.LevelInfo, 200)
	log.With("component", "sweep").Warn("expiry sweep failed")
	if got := strings.Count(out.String(), "msg=request"); got != 5 {
		t.Errorf("after a warning the log holds %d request lines, want 5:\n%s", got, out.String())
	}
}

func TestFullBufferIsWritten(t *testing.T) {
	log, out, flush := bufferedLogger(t, time.Hour)
	n := 0
	for len(out.String()) == 0 {
		logRequest(log, slog.LevelInfo, 200)
		if n++; n > 10*logBufferSize/50 {
			t.Fatalf("%d request lines and nothing written: the buffer is not bounded", n)
		}
	}
	if got := len(out.String()); got > logBufferSize {
		t.Errorf("wrote %d bytes at once, more than the buffer's %d", got, logBufferSize)
	}
	flush()
	if got := strings.Count(out.String(), "msg=request"); got != n {
		t.Errorf("after the final flush the log holds %d of %d lines", got, n)
	}
	// A record larger than the whole buffer goes straight through.
	log.Info(server.RequestLogMessage, "big", strings.Repeat("x", 2*logBufferSize))
	if !strings.Contains(out.String(), strings.Repeat("x", 2*logBufferSize)) {
		t.Error("a record larger than the buffer was not written")
	}
}

func TestZeroIntervalWritesEachLine(t *testing.T) {
	log, out, flush := bufferedLogger(t, 0)
	logRequest(log, slog.LevelInfo, 200)
	if !strings.Contains(out.String(), "msg=request") {
		t.Fatal("with --log-flush-interval 0 a request line waited")
	}
	flush() // a no-op, but callable
}

// TestConcurrentRequestLines: lines from many goroutines arrive whole.
func TestConcurrentRequestLines(t *testing.T) {
	log, out, flush := bufferedLogger(t, time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				logRequest(log, slog.LevelInfo, 200)
			}
		})
	}
	wg.Wait()
	flush()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4000 {
		t.Fatalf("%d lines, want 4000", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "time=") || !strings.HasSuffix(l, "status=200") {
			t.Fatalf("torn line %q", l)
		}
	}
}

func TestLogFlushIntervalOutOfRange(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	for _, v := range []string{"-1s", "11s", "1h"} {
		data := filepath.Join(dir, v)
		code, _, errOut := run(t, "--data", data, "serve", "--addr", "127.0.0.1:0", "--log-flush-interval", v)
		if code != exitUsage || !strings.Contains(errOut, "--log-flush-interval must be between 0 (write each line at once) and 10s") {
			t.Errorf("--log-flush-interval %s: exit %d, stderr %q; want exit %d naming the range", v, code, errOut, exitUsage)
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("--log-flush-interval %s: the data folder was created", v)
		}
	}
	t.Setenv("AKTUALD_LOG_FLUSH_INTERVAL", "later")
	code, _, errOut := run(t, "--data", filepath.Join(dir, "env"), "serve", "--addr", "127.0.0.1:0")
	if want := `AKTUALD_LOG_FLUSH_INTERVAL="later": invalid argument "later" for "--log-flush-interval" flag`; code != exitUsage || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, errOut, exitUsage, want)
	}
}
