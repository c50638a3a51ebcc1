package fetch

// The download's pure parts: backoff, Retry-After, Content-Range, the
// rate meter.

import (
	"net/http"
	"testing"
	"time"
)

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
	var events []Progress
	c := &Client{Progress: func(p Progress) { events = append(events, p) }}
	pw := &progressWriter{c: c, total: 10_000}
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
