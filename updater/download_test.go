package updater

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/updater/internal/fetch"

	"github.com/aktual/aktual/api"
)

// artifactProxy sits in front of the real server handler: it records each
// artifact request and counts the artifact bytes the server wrote, and
// lets a test spoil the n-th answer (from 0).
type artifactProxy struct {
	mu     sync.Mutex
	ranges []string    // Range header of each artifact request, "" for none
	times  []time.Time // when each arrived
	served atomic.Int64
	// spoil answers the n-th request itself when it returns true.
	spoil func(n int, w http.ResponseWriter, r *http.Request, next http.Handler) bool
}

func (p *artifactProxy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/artifacts/") {
			next.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		n := len(p.ranges)
		p.ranges = append(p.ranges, r.Header.Get("Range"))
		p.times = append(p.times, time.Now())
		p.mu.Unlock()
		cw := &countingWriter{ResponseWriter: w, served: &p.served, limit: -1}
		if p.spoil != nil && p.spoil(n, cw, r, next) {
			return
		}
		next.ServeHTTP(cw, r)
	})
}

func (p *artifactProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ranges...)
}

// countingWriter counts the body bytes written. With a limit (≥ 0) it
// writes that many, flushes them onto the wire and then calls atLimit,
// which by default drops the connection, as a cut line does.
type countingWriter struct {
	http.ResponseWriter
	served  *atomic.Int64
	limit   int64
	atLimit func()
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.limit >= 0 && int64(len(b)) >= w.limit {
		n, _ := w.ResponseWriter.Write(b[:w.limit])
		w.served.Add(int64(n))
		w.limit = 0
		w.Flush()
		if w.atLimit != nil {
			w.atLimit()
			return n, errors.New("stopped")
		}
		panic(http.ErrAbortHandler)
	}
	if w.limit >= 0 {
		w.limit -= int64(len(b))
	}
	n, err := w.ResponseWriter.Write(b)
	w.served.Add(int64(n))
	return n, err
}

func (w *countingWriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

// cutAfter serves the artifact and cuts the connection after n bytes.
func cutAfter(n int64, w http.ResponseWriter, r *http.Request, next http.Handler) {
	cw := w.(*countingWriter)
	cw.limit = n
	next.ServeHTTP(cw, r)
}

func (h *harness) proxy() *artifactProxy {
	p := &artifactProxy{}
	h.wrap = p.wrap
	h.u.RetryDelay = time.Millisecond
	return p
}

func (h *harness) updateCtx(ctx context.Context) (*Result, error) {
	return h.u.Update(ctx, Request{
		CheckRequest: CheckRequest{Product: h.prod, Target: h.target},
		Credential: func(context.Context, *Plan) (api.Credential, error) {
			return api.Credential{Code: h.code}, nil
		},
	})
}

// kept checks that a partial download of have bytes of 2.0.0, and its
// sidecar, wait beside the target, and that the target and the code's
// counts are as they were.
func (h *harness) kept(have int64) {
	h.t.Helper()
	b, err := os.ReadFile(fetch.DownloadPath(h.target))
	if err != nil {
		h.t.Fatalf("partial download: %v", err)
	}
	if int64(len(b)) != have || string(b) != string(h.v2[:len(b)]) {
		h.t.Errorf("partial download holds %d bytes (the start of 2.0.0: %v), want %d", len(b), string(b) == string(h.v2[:len(b)]), have)
	}
	if got, total, ok := fetch.Partial(h.target); !ok || got != have || total != int64(len(h.v2)) {
		h.t.Errorf("partialDownload = %d, %d, %v; want %d of %d", got, total, ok, have, len(h.v2))
	}
	if target, _ := os.ReadFile(h.target); string(target) != string(h.v1) {
		h.t.Error("target changed")
	}
	if st := h.counts(); st.Remaining != 2 || st.Held != 0 || st.Consumed != 0 {
		h.t.Errorf("counts remaining/held/consumed = %d/%d/%d, want 2/0/0", st.Remaining, st.Held, st.Consumed)
	}
	if j, _ := h.u.loadJournal(h.target); j != nil {
		h.t.Errorf("journal left: %+v", j)
	}
}

func (h *harness) noticed(part string) bool {
	for _, e := range h.events {
		if e.Event == EventNotice && strings.Contains(e.Message.String(), part) {
			return true
		}
	}
	return false
}

func equalRanges(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("artifact requests with Range %q, want %q", got, want)
	}
}

// A line cut mid-way: the same run asks for the rest and gets only the
// missing bytes.
func TestDownloadResumesAfterCut(t *testing.T) {
	h := newHarness(t, 2)
	p := h.proxy()
	const cut = 100_000
	p.spoil = func(n int, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if n == 0 {
			cutAfter(cut, w, r, next)
			return true
		}
		return false
	}
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 1, 0, 1)
	equalRanges(t, p.requests(), "", fmt.Sprintf("bytes=%d-", cut))
	if got := p.served.Load(); got != int64(len(h.v2)) {
		t.Errorf("server sent %d artifact bytes, want %d (the cut part once)", got, len(h.v2))
	}
	if !h.noticed("the connection broke after") {
		t.Error("no notice of the retry")
	}
	if fileExists(fetch.SidecarPath(h.target)) {
		t.Error("sidecar left after a finished download")
	}
	t.Logf("artifact %d bytes, cut at %d, served %d in all", len(h.v2), cut, p.served.Load())
}

// Ctrl-C mid-download keeps what arrived; the next run continues it,
// says so, and counts the continued bytes in its progress.
func TestDownloadInterruptedContinuesNextRun(t *testing.T) {
	h := newHarness(t, 2)
	p := h.proxy()
	ctx, cancel := context.WithCancel(t.Context())
	const stopAt = 100_000
	p.spoil = func(n int, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if n > 0 {
			return false
		}
		// Part of the file, then the line holds until the client goes.
		cw := w.(*countingWriter)
		cw.limit = stopAt
		cw.atLimit = func() { <-r.Context().Done() }
		next.ServeHTTP(cw, r)
		return true
	}
	events := h.u.Events
	h.u.Events = func(e Event) {
		events(e)
		if e.Event == EventProgress && e.Done > 0 {
			cancel() // the user presses Ctrl-C
		}
	}
	_, err := h.updateCtx(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want the interruption", err)
	}
	if !strings.Contains(err.Error(), "continues from there") {
		t.Errorf("error %q does not say the download can be continued", err)
	}
	have, _, ok := fetch.Partial(h.target)
	if !ok || have > stopAt {
		t.Fatalf("partial download: %d bytes, %v; want up to %d kept", have, ok, stopAt)
	}
	h.kept(have)
	// What the interrupted answer sent: up to stopAt, less when the
	// client hung up while the server was still writing (a loaded
	// machine). Read once the server's writes have stopped.
	firstServed := settled(&p.served)

	h.events, h.u.Events = nil, events
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 1, 0, 1)
	equalRanges(t, p.requests(), "", fmt.Sprintf("bytes=%d-", have))
	// Only the bytes that never reached the client are sent twice.
	if extra := p.served.Load() - int64(len(h.v2)); extra != firstServed-have || firstServed > stopAt {
		t.Errorf("server sent %d bytes more than the artifact; want %d (those lost in flight: %d sent, %d kept)",
			extra, firstServed-have, firstServed, have)
	}
	var sawNotice, sawProgress bool
	for _, e := range h.events {
		switch {
		case e.Event == EventNotice && strings.Contains(e.Message.String(), "continuing the download from"):
			sawNotice = true
		case e.Event == EventProgress && sawNotice && !sawProgress:
			sawProgress = true
			if e.Done != have || e.Total != int64(len(h.v2)) {
				t.Errorf("first progress after resuming: %d of %d, want %d of %d", e.Done, e.Total, have, len(h.v2))
			}
		case e.Event == EventProgress && e.Done < have:
			t.Errorf("progress %d below the resumed %d", e.Done, have)
		}
	}
	if !sawNotice || !sawProgress {
		t.Errorf("resume notice %v, progress after it %v", sawNotice, sawProgress)
	}
	t.Logf("interrupted at %d bytes kept, resumed: server sent %d bytes in all for a %d-byte artifact", have, p.served.Load(), len(h.v2))
}

// A partial download that is not the start of this release is thrown
// away, and the release is downloaded whole.
func TestDownloadDiscardsForeignPartial(t *testing.T) {
	tests := []struct {
		name    string
		sidecar func(h *harness) *api.ReleaseStatement
		data    func(h *harness) []byte
	}{
		{"another release", func(h *harness) *api.ReleaseStatement {
			return &api.ReleaseStatement{SHA256: sha256Of(h.v1), Size: int64(len(h.v1))}
		}, func(h *harness) []byte { return h.v1[:1000] }},
		{"no sidecar", func(*harness) *api.ReleaseStatement { return nil },
			func(h *harness) []byte { return h.v2[:1000] }},
		{"longer than the release", func(h *harness) *api.ReleaseStatement {
			return &api.ReleaseStatement{SHA256: sha256Of(h.v2), Size: int64(len(h.v2))}
		}, func(h *harness) []byte { return append(append([]byte(nil), h.v2...), "tail"...) }},
		{"unreadable sidecar", func(h *harness) *api.ReleaseStatement { return &api.ReleaseStatement{} },
			func(h *harness) []byte { return h.v2[:1000] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 2)
			p := h.proxy()
			if info := tt.sidecar(h); info != nil {
				if err := fetch.Adopt(h.target, *info); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(fetch.DownloadPath(h.target), tt.data(h), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := h.update(h.code); err != nil {
				t.Fatal(err)
			}
			h.expect(h.v2, 1, 0, 1)
			equalRanges(t, p.requests(), "")
			if fileExists(fetch.SidecarPath(h.target)) {
				t.Error("sidecar left")
			}
		})
	}
}

// A kept prefix that was damaged on disk fails the final check: nothing
// installed or used, the file removed; the next run starts afresh.
func TestDownloadCorruptPrefix(t *testing.T) {
	h := newHarness(t, 2)
	p := h.proxy()
	const have = 100_000
	bad := append([]byte(nil), h.v2[:have]...)
	bad[500] ^= 0xff
	if err := fetch.Adopt(h.target, api.ReleaseStatement{Product: product, Version: "2.0.0", SHA256: sha256Of(h.v2), Size: int64(len(h.v2))}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fetch.DownloadPath(h.target), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := h.update(h.code)
	wantKind(t, err, ErrVerification)
	if !strings.Contains(err.Error(), "damaged") {
		t.Errorf("error %q does not blame the kept part", err)
	}
	h.expect(h.v1, 2, 0, 0)
	if fileExists(fetch.SidecarPath(h.target)) {
		t.Error("sidecar left")
	}
	if j, _ := h.u.loadJournal(h.target); j != nil {
		t.Errorf("journal left: %+v", j)
	}

	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 1, 0, 1)
	equalRanges(t, p.requests(), fmt.Sprintf("bytes=%d-", have), "")
}

// A busy server's Retry-After is waited out, then the download goes on.
func TestDownloadHonoursRetryAfter(t *testing.T) {
	h := newHarness(t, 2)
	p := h.proxy()
	p.spoil = func(n int, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 1, 0, 1)
	equalRanges(t, p.requests(), "", "")
	p.mu.Lock()
	wait := p.times[1].Sub(p.times[0])
	p.mu.Unlock()
	if wait < time.Second {
		t.Errorf("retried after %v, before the server's Retry-After of 1 s", wait)
	}
	if !h.noticed("the server is busy (503") {
		t.Error("no notice of the wait")
	}
}

// A wait longer than a run sits through ends it at once, saying when.
func TestDownloadLongRetryAfterGivesUp(t *testing.T) {
	h := newHarness(t, 2)
	p := h.proxy()
	p.spoil = func(n int, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return true
	}
	_, err := h.update(h.code)
	wantKind(t, err, ErrNoConnection)
	at, want := time.Now().Add(time.Hour), ""
	if at.YearDay() == time.Now().YearDay() {
		want = at.Format("15:04") // as fetch's timeOfDay says it
	} else {
		want = at.Format("2006-01-02 15:04")
	}
	if !strings.Contains(err.Error(), "before "+want) {
		t.Errorf("error %q does not say to wait until %s", err, want)
	}
	equalRanges(t, p.requests(), "")
	h.expect(h.v1, 2, 0, 0)
	if fileExists(fetch.SidecarPath(h.target)) {
		t.Error("sidecar left though nothing was kept")
	}
}

// A server (or proxy) that ignores Range answers 200: the download starts
// over, and is still right.
func TestDownloadServerIgnoresRange(t *testing.T) {
	h := newHarness(t, 2)
	p := h.proxy()
	const cut = 100_000
	p.spoil = func(n int, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		r.Header.Del("Range")
		r.Header.Del("If-Range")
		if n == 0 {
			cutAfter(cut, w, r, next)
			return true
		}
		return false
	}
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 1, 0, 1)
	equalRanges(t, p.requests(), "", fmt.Sprintf("bytes=%d-", cut))
	if got := p.served.Load(); got != cut+int64(len(h.v2)) {
		t.Errorf("server sent %d bytes, want %d", got, cut+len(h.v2))
	}
	if !h.noticed("starting again from the beginning") {
		t.Error("no notice of starting over")
	}
}

// A line that keeps breaking: every try continues from the last; a try
// that brings bytes starts the count of tries again, so only tries in a
// row that bring nothing run out; what arrived is kept for the next run.
func TestDownloadRetriesExhausted(t *testing.T) {
	h := newHarness(t, 2)
	p := h.proxy()
	const each = 20_000
	var broken atomic.Bool
	broken.Store(true)
	p.spoil = func(n int, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		switch {
		case !broken.Load():
			return false
		case n < 6:
			cutAfter(each, w, r, next) // six tries, each 20 kB further
		default:
			cutAfter(0, w, r, next) // then nothing at all
		}
		return true
	}
	_, err := h.update(h.code)
	wantKind(t, err, ErrNoConnection)
	for _, part := range []string{"broke off", "after 5 attempts", "kept"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
	h.kept(6 * each)
	// The sixth try, which brought bytes, is the first of five.
	equalRanges(t, p.requests(), "", "bytes=20000-", "bytes=40000-", "bytes=60000-", "bytes=80000-",
		"bytes=100000-", "bytes=120000-", "bytes=120000-", "bytes=120000-", "bytes=120000-")
	if got := p.served.Load(); got != 6*each {
		t.Errorf("server sent %d bytes, want %d", got, 6*each)
	}

	broken.Store(false)
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 1, 0, 1)
	if got := p.served.Load(); got != int64(len(h.v2)) {
		t.Errorf("server sent %d bytes over both runs, want %d", got, len(h.v2))
	}
}

// A server that never answers well: nothing arrived, so nothing is kept.
func TestDownloadServerDownKeepsNothing(t *testing.T) {
	h := newHarness(t, 2)
	p := h.proxy()
	h.u.DownloadAttempts = 3
	p.spoil = func(n int, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		http.Error(w, "down", http.StatusBadGateway)
		return true
	}
	_, err := h.update(h.code)
	wantKind(t, err, ErrNoConnection)
	if !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), "try again later") {
		t.Errorf("error %q", err)
	}
	equalRanges(t, p.requests(), "", "", "")
	h.expect(h.v1, 2, 0, 0)
	if fileExists(fetch.SidecarPath(h.target)) {
		t.Error("sidecar left though nothing was kept")
	}
}

// settled returns n once it has not changed for 50 ms (at most 5 s).
func settled(n *atomic.Int64) int64 {
	last := n.Load()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		now := n.Load()
		if now == last {
			return now
		}
		last = now
	}
	return last
}
