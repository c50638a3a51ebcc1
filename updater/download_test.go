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
	b, err := os.ReadFile(downloadPath(h.target))
	if err != nil {
		h.t.Fatalf("partial download: %v", err)
	}
	if int64(len(b)) != have || string(b) != string(h.v2[:len(b)]) {
		h.t.Errorf("partial download holds %d bytes (the start of 2.0.0: %v), want %d", len(b), string(b) == string(h.v2[:len(b)]), have)
	}
	if got, total, ok := partialDownload(h.target); !ok || got != have || total != int64(len(h.v2)) {
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
	if fileExists(sidecarPath(h.target)) {
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
	have, _, ok := partialDownload(h.target)
	if !ok || have > stopAt {
		t.Fatalf("partial download: %d bytes, %v; want up to %d kept", have, ok, stopAt)
	}
	h.kept(have)

	h.events, h.u.Events = nil, events
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 1, 0, 1)
	equalRanges(t, p.requests(), "", fmt.Sprintf("bytes=%d-", have))
	// Only the bytes that never reached the client are sent twice.
	if extra := p.served.Load() - int64(len(h.v2)); extra != stopAt-have {
		t.Errorf("server sent %d bytes more than the artifact; want %d (those lost in flight)", extra, stopAt-have)
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
		sidecar func(h *harness) *partialInfo
		data    func(h *harness) []byte
	}{
		{"another release", func(h *harness) *partialInfo {
			return &partialInfo{SHA256: sha256Of(h.v1), Size: int64(len(h.v1))}
		}, func(h *harness) []byte { return h.v1[:1000] }},
		{"no sidecar", func(*harness) *partialInfo { return nil },
			func(h *harness) []byte { return h.v2[:1000] }},
		{"longer than the release", func(h *harness) *partialInfo {
			return &partialInfo{SHA256: sha256Of(h.v2), Size: int64(len(h.v2))}
		}, func(h *harness) []byte { return append(append([]byte(nil), h.v2...), "tail"...) }},
		{"unreadable sidecar", func(h *harness) *partialInfo { return &partialInfo{} },
			func(h *harness) []byte { return h.v2[:1000] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 2)
			p := h.proxy()
			if info := tt.sidecar(h); info != nil {
				if err := writeSidecar(h.target, *info); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(downloadPath(h.target), tt.data(h), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := h.update(h.code); err != nil {
				t.Fatal(err)
			}
			h.expect(h.v2, 1, 0, 1)
			equalRanges(t, p.requests(), "")
			if fileExists(sidecarPath(h.target)) {
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
	if err := writeSidecar(h.target, partialInfo{Product: product, Version: "2.0.0", SHA256: sha256Of(h.v2), Size: int64(len(h.v2))}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(downloadPath(h.target), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := h.update(h.code)
	wantKind(t, err, ErrVerification)
	if !strings.Contains(err.Error(), "damaged") {
		t.Errorf("error %q does not blame the kept part", err)
	}
	h.expect(h.v1, 2, 0, 0)
	if fileExists(sidecarPath(h.target)) {
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
	if want := timeOfDay(time.Now().Add(time.Hour), time.Now()); !strings.Contains(err.Error(), "before "+want) {
		t.Errorf("error %q does not say to wait until %s", err, want)
	}
	equalRanges(t, p.requests(), "")
	h.expect(h.v1, 2, 0, 0)
	if fileExists(sidecarPath(h.target)) {
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
	if fileExists(sidecarPath(h.target)) {
		t.Error("sidecar left though nothing was kept")
	}
}

func TestBackoff(t *testing.T) {
	top := func(n int64) int64 { return n - 1 } // the ceiling's edge
	tests := []struct {
		n    int
		base time.Duration
		want time.Duration
	}{
		{1, time.Second, time.Second},
		{2, time.Second, 2 * time.Second},
		{5, time.Second, 16 * time.Second},
		{6, time.Second, 30 * time.Second},
		{40, time.Second, 30 * time.Second},
		{64, time.Hour, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.n, tt.base, top); got != tt.want {
			t.Errorf("backoff(%d, %v) at most %v, want %v", tt.n, tt.base, got, tt.want)
		}
		if got := backoff(tt.n, tt.base, func(int64) int64 { return 0 }); got <= 0 {
			t.Errorf("backoff(%d, %v) at least %v, want > 0", tt.n, tt.base, got)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 1 << 31 * time.Second, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestContentRangeFits(t *testing.T) {
	tests := []struct {
		cr   string
		want bool
	}{
		{"bytes 100-999/1000", true},
		{"bytes 0-999/1000", false}, // asked from 100
		{"bytes 100-499/1000", false},
		{"bytes 100-999/2000", false},
		{"bytes 100-999/*", false},
		{"bytes 100-999/1000 extra", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := contentRangeFits(tt.cr, 100, 1000); got != tt.want {
			t.Errorf("contentRangeFits(%q) = %v, want %v", tt.cr, got, tt.want)
		}
	}
}

func TestRateMeter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name    string
		samples []rateSample
		want    int64
	}{
		{"nothing yet", nil, 0},
		{"too short to tell", []rateSample{{at(0), 0}, {at(200), 5000}}, 0},
		{"steady", []rateSample{{at(0), 0}, {at(1000), 1000}, {at(2000), 2000}}, 1000},
		// A resumed download: the prefix is not speed.
		{"resumed prefix", []rateSample{{at(0), 50_000}, {at(2000), 52_000}}, 1000},
		// The last 5 s only: a fast start is forgotten.
		{"slowed down", []rateSample{{at(0), 0}, {at(1000), 100_000}, {at(6000), 100_500}, {at(11000), 101_000}}, 100},
		{"stalled", []rateSample{{at(0), 0}, {at(1000), 500}, {at(7000), 500}}, 0},
	}
	for _, tt := range tests {
		var m rateMeter
		for _, s := range tt.samples {
			m.add(s.at, s.done)
		}
		if got := m.rate(); got != tt.want {
			t.Errorf("%s: rate = %d, want %d", tt.name, got, tt.want)
		}
		if len(m.samples) > 4 {
			t.Errorf("%s: %d samples kept", tt.name, len(m.samples))
		}
	}
}

// Progress events carry the rate and the time left once the line has
// been measured.
func TestProgressRateAndETA(t *testing.T) {
	var events []Event
	u := &Updater{Events: func(e Event) { events = append(events, e) }}
	pw := &progressWriter{u: u, total: 10_000}
	pw.restart(0)
	t0 := time.Now()
	pw.meter = rateMeter{}
	pw.meter.add(t0.Add(-2*time.Second), 0)
	pw.done = 2000
	pw.emit(t0)
	e := events[len(events)-1]
	if e.Rate != 1000 || e.ETA != 8 || e.Done != 2000 {
		t.Errorf("event %+v, want rate 1000 B/s and 8 s left", e)
	}
	pw.done = 10_000
	pw.emit(t0.Add(time.Second))
	if e := events[len(events)-1]; e.ETA != 0 || e.Rate != 0 {
		t.Errorf("finished download reports rate %d, %d s left", e.Rate, e.ETA)
	}
}

// A run that fails after the download (here a mistyped code the server
// does not know) keeps the verified file; the next run checks its hash
// again instead of downloading it again, and removes it once installed.
func TestVerifiedDownloadKeptForNextRun(t *testing.T) {
	h := newHarness(t, 1)
	var gets atomic.Int32
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/artifacts/") {
				gets.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}
	wrong, _ := api.NewCode()
	_, err := h.update(wrong.String())
	wantKind(t, err, ErrCredentialRejected)
	if !keptWhole(h.target) {
		t.Fatal("the verified download was not kept after a refused code")
	}
	if have, total, ok := PartialDownload(h.target); !ok || have != total || total != int64(len(h.v2)) {
		t.Errorf("PartialDownload = %d, %d, %v; want the whole %d bytes", have, total, ok, len(h.v2))
	}
	h.events = nil
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	if n := gets.Load(); n != 1 {
		t.Errorf("the artifact was fetched %d times; want once", n)
	}
	said := false
	for _, e := range h.events {
		said = said || e.Message.String() == "the download is complete from an earlier run; it is checked again"
	}
	if !said {
		t.Error("the second run did not say it reused the download")
	}
	h.expect(h.v2, 0, 0, 1)
	if fileExists(downloadPath(h.target)) || fileExists(sidecarPath(h.target)) {
		t.Error("the download was left after the install")
	}
}

// A kept download damaged on disk between runs is caught by its hash,
// deleted, and nothing is installed; the run after downloads it afresh.
func TestKeptDownloadDamagedOnDisk(t *testing.T) {
	h := newHarness(t, 1)
	wrong, _ := api.NewCode()
	_, err := h.update(wrong.String())
	wantKind(t, err, ErrCredentialRejected)
	b, _ := os.ReadFile(downloadPath(h.target))
	b[len(b)/2] ^= 0xff
	os.WriteFile(downloadPath(h.target), b, 0o600)
	_, err = h.update(h.code)
	wantKind(t, err, ErrVerification)
	if fileExists(downloadPath(h.target)) {
		t.Error("the damaged download was kept")
	}
	h.expect(h.v1, 1, 0, 0)
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 0, 0, 1)
}
