package staff

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/server/store"
)

// memCounter is the store's throttle in memory, as store.Staff describes
// it: a fixed window that starts at a key's first hit.
type memCounter struct {
	mu   sync.Mutex
	keys map[string]store.ThrottleResult
	err  error // every call fails with it when set
}

// The store's staff storage is a Counter as it is.
var _ Counter = store.Staff(nil)

func newMemCounter() *memCounter { return &memCounter{keys: map[string]store.ThrottleResult{}} }

func (c *memCounter) Hit(_ context.Context, key string, window time.Duration, now time.Time) (store.ThrottleResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return store.ThrottleResult{}, c.err
	}
	r, ok := c.keys[key]
	if !ok || !now.Before(r.ResetAt) {
		r = store.ThrottleResult{ResetAt: now.Add(window)}
	}
	r.Count++
	c.keys[key] = r
	return r, nil
}

func (c *memCounter) Throttle(_ context.Context, key string, now time.Time) (store.ThrottleResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return store.ThrottleResult{}, c.err
	}
	r, ok := c.keys[key]
	if !ok || !now.Before(r.ResetAt) {
		return store.ThrottleResult{}, nil
	}
	return r, nil
}

func (c *memCounter) Unhit(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if r, ok := c.keys[key]; ok {
		if r.Count <= 1 {
			delete(c.keys, key)
		} else {
			r.Count--
			c.keys[key] = r
		}
	}
	return nil
}

func (c *memCounter) ClearThrottle(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	delete(c.keys, key)
	return nil
}

var (
	t0  = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	ctx = context.Background()
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// attempt counts a password attempt and fails the test on an error.
func attempt(t *testing.T, th Throttle, c Counter, login, a string, now time.Time) (bool, time.Duration) {
	t.Helper()
	return attemptStep(t, th, c, StepPassword, login, a, now)
}

func attemptStep(t *testing.T, th Throttle, c Counter, step, login, a string, now time.Time) (bool, time.Duration) {
	t.Helper()
	ok, wait, err := th.Attempt(ctx, c, step, login, addr(a), now)
	if err != nil {
		t.Fatal(err)
	}
	return ok, wait
}

func succeed(t *testing.T, th Throttle, c Counter, step, login, a string) {
	t.Helper()
	if err := th.Succeeded(ctx, c, step, login, addr(a)); err != nil {
		t.Fatal(err)
	}
}

func TestThrottleAccount(t *testing.T) {
	c, th := newMemCounter(), Throttle{} // the defaults: 5 an account, 20 an address, 15 minutes
	// Five wrong attempts from five addresses, a minute apart, are all
	// checked; the sixth (in any case of the login) is refused until the
	// window ends, 15 minutes after the first.
	for i := range 5 {
		if ok, _ := attempt(t, th, c, []string{"ana", "Ana"}[i%2], fmt.Sprintf("198.51.100.%d", i), t0.Add(time.Duration(i)*time.Minute)); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	now := t0.Add(5*time.Minute + 300*time.Millisecond)
	if ok, wait := attempt(t, th, c, "ANA", "203.0.113.1", now); ok || wait != 10*time.Minute {
		t.Errorf("after 5 wrong attempts: allowed %v, retry after %v; want refused for 10m (rounded up)", ok, wait)
	}
	if ok, _ := attempt(t, th, c, "bob", "203.0.113.1", now); !ok {
		t.Errorf("another account is locked too")
	}
	if ok, _ := attempt(t, th, c, "ana", "203.0.113.1", t0.Add(15*time.Minute)); !ok {
		t.Errorf("still locked when the window has ended")
	}
}

func TestThrottleAddress(t *testing.T) {
	c, th := newMemCounter(), Throttle{}
	for i := range 20 { // 20 logins, 1 guess each: under the account limit
		if ok, _ := attempt(t, th, c, fmt.Sprintf("user%d", i), "198.51.100.1", t0); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if ok, wait := attempt(t, th, c, "someone-else", "198.51.100.1", t0.Add(time.Minute)); ok || wait != 14*time.Minute {
		t.Errorf("after 20 wrong attempts from one address: allowed %v, retry after %v; want refused for 14m", ok, wait)
	}
	if ok, _ := attempt(t, th, c, "someone-else", "198.51.100.2", t0.Add(time.Minute)); !ok {
		t.Errorf("another address is refused too")
	}
}

// TestThrottleIPv6Prefix: one host rotating through its /64 is one
// address; the next /64 is another.
func TestThrottleIPv6Prefix(t *testing.T) {
	c, th := newMemCounter(), Throttle{AddressFailures: 3}
	for i := range 3 {
		attempt(t, th, c, fmt.Sprintf("user%d", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), t0)
	}
	if ok, _ := attempt(t, th, c, "x", "2001:db8:1:2:ffff:ffff:ffff:ffff", t0); ok {
		t.Errorf("a new address in the same /64 is allowed")
	}
	if ok, _ := attempt(t, th, c, "x", "2001:db8:1:3::1", t0); !ok {
		t.Errorf("the next /64 is refused")
	}
}

// TestThrottleSucceeded: a right attempt is taken back, so an office
// signing in from one address is never refused for its right passwords,
// and the account's wrong ones are forgiven; the address keeps its wrong
// ones.
func TestThrottleSucceeded(t *testing.T) {
	c, th := newMemCounter(), Throttle{AccountFailures: 2, AddressFailures: 3}
	for i := range 10 {
		if ok, _ := attempt(t, th, c, fmt.Sprintf("user%d", i), "198.51.100.1", t0); !ok {
			t.Fatalf("right sign-in %d from the office refused", i+1)
		}
		succeed(t, th, c, StepPassword, fmt.Sprintf("user%d", i), "198.51.100.1")
	}
	attempt(t, th, c, "ana", "198.51.100.2", t0) // wrong
	attempt(t, th, c, "ANA", "198.51.100.2", t0) // right
	succeed(t, th, c, StepPassword, "ANA", "198.51.100.2")
	for i := range 2 {
		if ok, _ := attempt(t, th, c, "ana", "198.51.100.3", t0); !ok {
			t.Errorf("wrong attempt %d after a success refused: the success did not forgive", i+1)
		}
	}
	if ok, _ := attempt(t, th, c, "ana", "198.51.100.4", t0); ok {
		t.Errorf("a third wrong attempt in a row was allowed")
	}
	// The address keeps its one wrong attempt: with two more, it is full.
	attempt(t, th, c, "bob", "198.51.100.2", t0)
	attempt(t, th, c, "carol", "198.51.100.2", t0)
	if ok, _ := attempt(t, th, c, "dave", "198.51.100.2", t0); ok {
		t.Errorf("the address's wrong attempt was forgiven by another account's success")
	}
}

// TestThrottleCodeStepApart: a right password does not wipe the count of
// wrong TOTP codes: a thief with the password cannot guess codes without
// end by signing in again between guesses.
func TestThrottleCodeStepApart(t *testing.T) {
	c, th := newMemCounter(), Throttle{AccountFailures: 2}
	for round := range 3 {
		if ok, _ := attemptStep(t, th, c, StepPassword, "ana", fmt.Sprintf("198.51.100.%d", round), t0); !ok {
			t.Fatalf("password %d refused", round+1)
		}
		succeed(t, th, c, StepPassword, "ana", fmt.Sprintf("198.51.100.%d", round))
		ok, _ := attemptStep(t, th, c, StepCode, "ana", fmt.Sprintf("198.51.100.%d", round), t0)
		if want := round < 2; ok != want {
			t.Errorf("code guess %d after a right password: allowed %v, want %v", round+1, ok, want)
		}
	}
}

// TestThrottleBurst: attempts that arrive at once are each counted
// before any is checked, so a burst gets the limit's worth of checks and
// no more.
func TestThrottleBurst(t *testing.T) {
	c, th := newMemCounter(), Throttle{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked := 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _, err := th.Attempt(ctx, c, StepPassword, "maria", addr(fmt.Sprintf("198.51.100.%d", i)), t0); err == nil && ok {
				mu.Lock()
				checked++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if checked != 5 {
		t.Errorf("%d of 40 simultaneous attempts were let through to the password check, want 5", checked)
	}
}

func TestThrottleErrors(t *testing.T) {
	boom := errors.New("database is down")
	c, th := newMemCounter(), Throttle{}
	c.err = boom
	if ok, _, err := th.Attempt(ctx, c, StepPassword, "ana", addr("198.51.100.1"), t0); ok || !errors.Is(err, boom) {
		t.Errorf("Attempt with a failing counter = %v, %v; want refused with the error", ok, err)
	}
	if err := th.Succeeded(ctx, c, StepPassword, "ana", addr("198.51.100.1")); !errors.Is(err, boom) {
		t.Errorf("Succeeded = %v", err)
	}
	if ok, _, err := (RequestLimit{}).Take(ctx, c, "x", t0); ok || !errors.Is(err, boom) {
		t.Errorf("Take with a failing counter = %v, %v", ok, err)
	}
}

func TestAccountKey(t *testing.T) {
	long1, long2 := strings.Repeat("a", 200), strings.Repeat("a", 199)+"b"
	for _, tc := range []struct{ login, want string }{
		{"ana", "login:ana"},
		{"Ana.Petrova", "login:ana.petrova"},
		{"ДИМИТЪР", "login:димитър"},
		{"", "login:"},
	} {
		if got := AccountKey(tc.login); got != tc.want {
			t.Errorf("AccountKey(%q) = %q, want %q", tc.login, got, tc.want)
		}
	}
	k1, k2 := AccountKey(long1), AccountKey(long2)
	if k1 == k2 || len(k1) > 100 || !strings.HasPrefix(k1, "login:sha256:") || AccountKey(strings.ToUpper(long1)) != k1 {
		t.Errorf("long logins' keys %q, %q: want short, distinct, case-blind", k1, k2)
	}
}

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct {
		a    netip.Addr
		want string
	}{
		{addr("198.51.100.1"), "addr:198.51.100.1"},
		{addr("::ffff:198.51.100.1"), "addr:198.51.100.1"},
		{addr("2001:db8:1:2:3:4:5:6"), "addr:2001:db8:1:2::/64"},
		{addr("2001:db8:1:2::1"), "addr:2001:db8:1:2::/64"},
		{addr("fe80::1%eth0"), "addr:fe80::/64"},
		{addr("::1"), "addr:::/64"},
		{netip.Addr{}, "addr:unknown"},
	} {
		if got := AddressKey(tc.a); got != tc.want {
			t.Errorf("AddressKey(%v) = %q, want %q", tc.a, got, tc.want)
		}
	}
}

func TestRequestLimit(t *testing.T) {
	c, l := newMemCounter(), RequestLimit{N: 3, Window: time.Minute}
	take := func(key string, now time.Time) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := l.Take(ctx, c, key, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	tok := TokenRequestKey(42)
	for i := range 3 {
		if ok, _ := take(tok, t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	if ok, wait := take(tok, t0.Add(20*time.Second)); ok || wait != 40*time.Second {
		t.Errorf("4th request: %v, retry after %v; want refused for 40s", ok, wait)
	}
	if ok, _ := take(TokenRequestKey(43), t0.Add(20*time.Second)); !ok {
		t.Errorf("another token is refused")
	}
	if ok, _ := take(tok, t0.Add(time.Minute)); !ok {
		t.Errorf("refused in the next window")
	}
	// Requests from an address count apart from its failed logins.
	a := addr("198.51.100.1")
	for range 30 {
		take(AddressKey(a), t0)
	}
	if ok, _ := attempt(t, Throttle{}, c, "ana", "198.51.100.1", t0); !ok {
		t.Errorf("an address's requests count as its failed logins")
	}
	// Zero is the default: 600 a minute.
	for i := range DefaultRequestLimit.N {
		if ok, _, _ := (RequestLimit{}).Take(ctx, c, "d", t0); !ok {
			t.Fatalf("request %d of the default %d refused", i+1, DefaultRequestLimit.N)
		}
	}
	if ok, _, _ := (RequestLimit{}).Take(ctx, c, "d", t0); ok {
		t.Errorf("request %d allowed by the default limit", DefaultRequestLimit.N+1)
	}
}

func TestWait(t *testing.T) {
	for _, tc := range []struct{ d, want time.Duration }{
		{-time.Hour, time.Second}, // the database's clock behind ours
		{0, time.Second},
		{time.Millisecond, time.Second},
		{time.Second, time.Second},
		{time.Second + time.Nanosecond, 2 * time.Second},
		{90*time.Second - time.Millisecond, 90 * time.Second},
		{15 * time.Minute, 15 * time.Minute},
	} {
		if got := wait(t0.Add(tc.d), t0); got != tc.want {
			t.Errorf("wait(now+%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}
