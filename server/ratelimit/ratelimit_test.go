package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testLimits: five free failures, 1s doubling to 15 minutes, forgotten
// after an hour.
var testLimits = Limits{Allowance: 5, FirstBlock: time.Second, MaxBlock: 15 * time.Minute, ForgetAfter: time.Hour}

func TestBlockFor(t *testing.T) {
	p := testLimits.withDefaults()
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 0},
		{5, 0},                      // the whole allowance is free
		{6, time.Second},            // the first failure past it
		{7, 2 * time.Second},        // doubles
		{8, 4 * time.Second},        //
		{15, 512 * time.Second},     //
		{16, 15 * time.Minute},      // 1024s is past the cap
		{100, 15 * time.Minute},     //
		{1 << 40, 15 * time.Minute}, // no overflow
	} {
		if got := p.blockFor(tc.failures); got != tc.want {
			t.Errorf("blockFor(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}

func TestLimitsDefaults(t *testing.T) {
	p := Limits{}.withDefaults()
	if p.Allowance != DefaultAllowance || p.FirstBlock != DefaultFirstBlock || p.MaxBlock != DefaultMaxBlock ||
		p.ForgetAfter != DefaultForgetAfter || p.MaxKeys != DefaultMaxKeys {
		t.Errorf("zero limits took %+v, want the defaults", p)
	}
	// A key forgotten while still blocked would be let through early.
	if p := (Limits{MaxBlock: time.Hour, ForgetAfter: time.Minute}).withDefaults(); p.ForgetAfter != time.Hour {
		t.Errorf("ForgetAfter %v with MaxBlock %v, want it raised to MaxBlock", p.ForgetAfter, p.MaxBlock)
	}
}

// stepClock is a clock a test moves by hand.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time      { return c.now }
func (c *stepClock) Add(d time.Duration) { c.now = c.now.Add(d) }
func newStepClock() *stepClock           { return &stepClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }
func limiterOn(c *stepClock, p Limits) *Limiter {
	p.Now = c.Now
	return New(p)
}

// step is one thing that happens to a limiter in TestLimiter.
type step struct {
	op   string // "fail", "succeed", "neutral": an attempt that ends so; "wait": advance the clock
	key  string
	d    time.Duration // for "wait"
	want time.Duration // for an attempt: the wait it is refused with (0: admitted)
}

func fails(key string, n int) []step {
	s := make([]step, n)
	for i := range s {
		s[i] = step{op: "fail", key: key}
	}
	return s
}

func steps(groups ...any) []step {
	var out []step
	for _, g := range groups {
		switch g := g.(type) {
		case step:
			out = append(out, g)
		case []step:
			out = append(out, g...)
		}
	}
	return out
}

func wait(d time.Duration) step { return step{op: "wait", d: d} }

// refused is an attempt under key that must be refused with want to wait.
func refused(key string, want time.Duration) step { return step{op: "fail", key: key, want: want} }

func TestLimiter(t *testing.T) {
	const addr, code = "addr:192.0.2.1", "code:c0de"
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"the allowance is free", steps(fails(addr, 5), fails(addr, 1), refused(addr, time.Second))},
		{"a refused attempt changes nothing", steps(fails(addr, 6),
			refused(addr, time.Second), refused(addr, time.Second), wait(time.Second), fails(addr, 1), refused(addr, 2*time.Second))},
		{"each block doubles", steps(fails(addr, 6),
			wait(time.Second), fails(addr, 1), refused(addr, 2*time.Second),
			wait(2*time.Second), fails(addr, 1), refused(addr, 4*time.Second),
			wait(4*time.Second), fails(addr, 1), refused(addr, 8*time.Second))},
		{"the block ends exactly when it said", steps(fails(addr, 6),
			wait(time.Second-time.Millisecond), refused(addr, time.Millisecond), wait(time.Millisecond), fails(addr, 1))},
		{"blocks stop at the cap", steps(fails(addr, 6),
			wait(15*time.Minute), fails(addr, 1), wait(15*time.Minute), fails(addr, 1), wait(15*time.Minute), fails(addr, 1),
			wait(15*time.Minute), fails(addr, 1), wait(15*time.Minute), fails(addr, 1), wait(15*time.Minute), fails(addr, 1),
			wait(15*time.Minute), fails(addr, 1), wait(15*time.Minute), fails(addr, 1), wait(15*time.Minute), fails(addr, 1),
			wait(15*time.Minute), fails(addr, 1), wait(15*time.Minute), fails(addr, 1), refused(addr, 15*time.Minute))},
		{"failures are forgotten after an hour without one", steps(fails(addr, 5),
			wait(time.Hour), fails(addr, 5), fails(addr, 1), refused(addr, time.Second))},
		{"not while they keep coming", steps(fails(addr, 5),
			wait(59*time.Minute), fails(addr, 1), wait(59*time.Minute), fails(addr, 1), refused(addr, 2*time.Second))},
		{"keys are apart", steps(fails(addr, 6), refused(addr, time.Second), fails("addr:192.0.2.2", 5), fails(code, 5))},
		{"a success forgets a credential's failures", steps(fails(code, 6), wait(time.Second),
			step{op: "succeed", key: code}, fails(code, 5), fails(code, 1), refused(code, time.Second))},
		{"a success is still refused while blocked", steps(fails(code, 6), refused(code, time.Second),
			step{op: "succeed", key: code, want: time.Second})},
		{"an attempt neither failed nor succeeded counts for nothing", steps(fails(code, 5),
			step{op: "neutral", key: code}, step{op: "neutral", key: code}, fails(code, 1), refused(code, time.Second))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newStepClock()
			l := limiterOn(clk, testLimits)
			for i, s := range tc.steps {
				if s.op == "wait" {
					clk.Add(s.d)
					continue
				}
				tk, w, ok := l.Begin(s.key)
				if ok != (s.want == 0) || w != s.want {
					t.Fatalf("step %d (%s %s): admitted %v with wait %v, want wait %v", i, s.op, s.key, ok, w, s.want)
				}
				if !ok {
					continue
				}
				l.End(tk, map[string]Outcome{"fail": Failed, "succeed": Succeeded, "neutral": NotJudged}[s.op])
			}
		})
	}
}

// TestLimiterKeepsABlock: a key is not forgotten before its block
// ends, even when configured to forget sooner.
func TestLimiterKeepsABlock(t *testing.T) {
	clk := newStepClock()
	l := limiterOn(clk, Limits{Allowance: 1, FirstBlock: 2 * time.Hour, MaxBlock: 2 * time.Hour, ForgetAfter: time.Hour})
	for range 2 {
		tk, _, _ := l.Begin("addr:x")
		l.End(tk, Failed)
	}
	clk.Add(time.Hour)
	if _, w, ok := l.Begin("addr:x"); ok || w != time.Hour {
		t.Fatalf("an hour into a two-hour block: admitted %v, wait %v; want refused for another hour", ok, w)
	}
	clk.Add(time.Hour)
	if _, _, ok := l.Begin("addr:x"); !ok {
		t.Fatal("refused after the block ended")
	}
}

// TestLimiterInFlight: past its first failure, a key gets no more
// attempts evaluated at once than it has failures left, and one at a time
// once it has none: parallel requests do not multiply its allowance.
func TestLimiterInFlight(t *testing.T) {
	clk := newStepClock()
	l := limiterOn(clk, testLimits)
	const key = "addr:192.0.2.1"
	var clean []Ticket
	for i := range 50 {
		tk, _, ok := l.Begin(key)
		if !ok {
			t.Fatalf("attempt %d of a key that never failed was refused", i)
		}
		clean = append(clean, tk)
	}
	for _, tk := range clean {
		l.End(tk, Succeeded)
	}

	for range 3 { // 3 failures: 2 left
		tk, _, _ := l.Begin(key)
		l.End(tk, Failed)
	}
	a, _, okA := l.Begin(key)
	b, _, okB := l.Begin(key)
	_, w, okC := l.Begin(key)
	if !okA || !okB || okC || w != time.Second {
		t.Fatalf("with 2 failures left: admitted %v %v %v (wait %v), want the first two only", okA, okB, okC, w)
	}
	l.End(a, Failed) // 4 failures, one in flight: full
	if _, _, ok := l.Begin(key); ok {
		t.Fatal("admitted a third attempt while the allowance is used up by failures and one in flight")
	}
	l.End(b, Failed) // 5: the allowance is spent, nothing in flight
	c, _, ok := l.Begin(key)
	if !ok {
		t.Fatal("refused the one attempt at a time a spent allowance leaves")
	}
	if _, _, ok := l.Begin(key); ok {
		t.Fatal("admitted a second attempt at once past the allowance")
	}
	if d := l.End(c, Failed); d != time.Second {
		t.Fatalf("the sixth failure blocked for %v, want 1s", d)
	}
}

// TestLimiterConcurrent hammers one key from many goroutines (run
// with -race): evaluations stay bounded by the first burst plus the
// allowance, and the limiter stays consistent.
func TestLimiterConcurrent(t *testing.T) {
	l := New(Limits{Allowance: 5, Now: func() time.Time { return time.Unix(1e9, 0) }})
	const workers, each = 32, 50
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				key := "addr:192.0.2.1"
				if i%2 == 1 {
					key = fmt.Sprintf("code:%d-%d", w, i)
				}
				tk, _, ok := l.Begin(key)
				if !ok {
					continue
				}
				admitted.Add(1)
				l.End(tk, Failed)
			}
		})
	}
	wg.Wait()
	// Odd attempts are distinct keys, each admitted once; even ones share
	// the address: at most one burst of all workers before the first
	// failure is recorded, then the allowance.
	if got, most := admitted.Load(), int64(workers*each/2+workers+6); got > most {
		t.Errorf("%d attempts admitted, want at most %d", got, most)
	}
	if n := l.Len(); n != workers*each/2+1 {
		t.Errorf("%d keys remembered, want %d", n, workers*each/2+1)
	}
}

func TestLimiterBoundsKeys(t *testing.T) {
	clk := newStepClock()
	p := testLimits
	p.MaxKeys = 3
	l := limiterOn(clk, p)
	failKey := func(key string) {
		tk, _, ok := l.Begin(key)
		if !ok {
			t.Fatalf("%s refused", key)
		}
		l.End(tk, Failed)
	}
	for _, k := range []string{"a", "b", "c"} {
		failKey(k)
		clk.Add(time.Millisecond)
	}
	failKey("a") // a is now the most recent
	failKey("d") // evicts the least recently failed: b
	if n := l.Len(); n != 3 {
		t.Errorf("%d keys remembered, want at most 3", n)
	}
	for key, known := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		l.mu.Lock()
		_, got := l.keys[key]
		l.mu.Unlock()
		if got != known {
			t.Errorf("key %s remembered: %v, want %v", key, got, known)
		}
	}

	t.Run("stale keys are swept", func(t *testing.T) {
		clk.Add(time.Hour)
		failKey("e")
		if n := l.Len(); n != 1 {
			t.Errorf("%d keys remembered an hour later, want only the new one", n)
		}
	})
}
