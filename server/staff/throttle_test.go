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

// allowed asks Allowed and fails the test on an error.
func allowed(t *testing.T, th Throttle, c Counter, login, a string, now time.Time) (bool, time.Duration) {
	t.Helper()
	ok, wait, err := th.Allowed(ctx, c, login, addr(a), now)
	if err != nil {
		t.Fatal(err)
	}
	return ok, wait
}

func fail(t *testing.T, th Throttle, c Counter, login, a string, now time.Time) {
	t.Helper()
	if err := th.Failed(ctx, c, login, addr(a), now); err != nil {
		t.Fatal(err)
	}
}

func TestThrottleAccount(t *testing.T) {
	c, th := newMemCounter(), Throttle{} // the defaults: 5 an account, 20 an address, 15 minutes
	// Five failures from five addresses, a minute apart: the fifth locks
	// the account (in any case of its login) until its window ends, 15
	// minutes after the first.
	for i := range 5 {
		if ok, _ := allowed(t, th, c, "ana", fmt.Sprintf("198.51.100.%d", i), t0.Add(time.Duration(i)*time.Minute)); !ok {
			t.Fatalf("failure %d refused", i+1)
		}
		fail(t, th, c, "Ana", fmt.Sprintf("198.51.100.%d", i), t0.Add(time.Duration(i)*time.Minute))
	}
	now := t0.Add(5*time.Minute + 300*time.Millisecond)
	if ok, wait := allowed(t, th, c, "ANA", "203.0.113.1", now); ok || wait != 10*time.Minute {
		t.Errorf("after 5 failures: allowed %v, retry after %v; want refused for 10m (rounded up)", ok, wait)
	}
	if ok, _ := allowed(t, th, c, "bob", "203.0.113.1", now); !ok {
		t.Errorf("another account is locked too")
	}
	if ok, _ := allowed(t, th, c, "ana", "203.0.113.1", t0.Add(15*time.Minute)); !ok {
		t.Errorf("still locked when the window has ended")
	}
}

func TestThrottleAddress(t *testing.T) {
	c, th := newMemCounter(), Throttle{}
	for i := range 20 { // 20 logins, 1 guess each: under the account limit
		fail(t, th, c, fmt.Sprintf("user%d", i), "198.51.100.1", t0)
	}
	if ok, wait := allowed(t, th, c, "someone-else", "198.51.100.1", t0.Add(time.Minute)); ok || wait != 14*time.Minute {
		t.Errorf("after 20 failures from one address: allowed %v, retry after %v; want refused for 14m", ok, wait)
	}
	if ok, _ := allowed(t, th, c, "someone-else", "198.51.100.2", t0.Add(time.Minute)); !ok {
		t.Errorf("another address is refused too")
	}
}

// TestThrottleIPv6Prefix: one host rotating through its /64 is one
// address; the next /64 is another.
func TestThrottleIPv6Prefix(t *testing.T) {
	c, th := newMemCounter(), Throttle{AddressFailures: 3}
	for i := range 3 {
		fail(t, th, c, fmt.Sprintf("user%d", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), t0)
	}
	if ok, _ := allowed(t, th, c, "x", "2001:db8:1:2:ffff:ffff:ffff:ffff", t0); ok {
		t.Errorf("a new address in the same /64 is allowed")
	}
	if ok, _ := allowed(t, th, c, "x", "2001:db8:1:3::1", t0); !ok {
		t.Errorf("the next /64 is refused")
	}
}

func TestThrottleSucceeded(t *testing.T) {
	c, th := newMemCounter(), Throttle{AccountFailures: 2, AddressFailures: 3}
	fail(t, th, c, "ana", "198.51.100.1", t0)
	fail(t, th, c, "ana", "198.51.100.1", t0)
	if ok, _ := allowed(t, th, c, "ana", "198.51.100.2", t0); ok {
		t.Fatal("not locked after 2 failures with a limit of 2")
	}
	if err := th.Succeeded(ctx, c, "ANA"); err != nil { // e.g. the shell reset the password, and a login then passed
		t.Fatal(err)
	}
	if ok, _ := allowed(t, th, c, "ana", "198.51.100.2", t0); !ok {
		t.Errorf("still locked after a success")
	}
	// The address's failures stay: one success must not buy more guesses
	// at other accounts.
	fail(t, th, c, "bob", "198.51.100.1", t0)
	if ok, _ := allowed(t, th, c, "carol", "198.51.100.1", t0); ok {
		t.Errorf("the address's count was cleared by a success")
	}
}

func TestThrottleErrors(t *testing.T) {
	boom := errors.New("database is down")
	c, th := newMemCounter(), Throttle{}
	c.err = boom
	if ok, _, err := th.Allowed(ctx, c, "ana", addr("198.51.100.1"), t0); ok || !errors.Is(err, boom) {
		t.Errorf("Allowed with a failing counter = %v, %v; want refused with the error", ok, err)
	}
	if err := th.Failed(ctx, c, "ana", addr("198.51.100.1"), t0); !errors.Is(err, boom) {
		t.Errorf("Failed = %v", err)
	}
	if err := th.Succeeded(ctx, c, "ana"); !errors.Is(err, boom) {
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
	for range 10 {
		take(AddressKey(a), t0)
	}
	if ok, _ := allowed(t, Throttle{}, c, "ana", "198.51.100.1", t0); !ok {
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
