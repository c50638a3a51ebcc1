package staff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/aktual/aktual/server/store"
)

// Counter counts hits on keys in fixed windows. The database does it
// (every store.Staff implements it: see its Hit, Throttle, ClearThrottle
// and Unhit), so every replica sees the same counts.
type Counter interface {
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (store.ThrottleResult, error)
	Throttle(ctx context.Context, key string, now time.Time) (store.ThrottleResult, error)
	ClearThrottle(ctx context.Context, key string) error
	Unhit(ctx context.Context, key string) error
}

// Throttle is the login throttling policy: how many failed logins an
// account, and an address, may have in a window before logins are
// refused until that window ends. A wrong password, an unknown login and
// a wrong TOTP code are all failures, counted alike, so the refusal never
// tells which it was. Zero fields take DefaultThrottle's.
//
// The account limit stops guessing one account's password from many
// addresses; the address limit stops one address guessing across many
// accounts. The price of the first is that anyone can lock an account for
// a window by failing on purpose; it unlocks by itself.
type Throttle struct {
	AccountFailures int
	AccountWindow   time.Duration
	AddressFailures int
	AddressWindow   time.Duration
}

// DefaultThrottle: 5 failures an account and 20 an address in 15 minutes
// (an office behind one address shares its 20).
var DefaultThrottle = Throttle{AccountFailures: 5, AccountWindow: 15 * time.Minute, AddressFailures: 20, AddressWindow: 15 * time.Minute}

func (t Throttle) withDefaults() Throttle {
	d := DefaultThrottle
	if t.AccountFailures <= 0 {
		t.AccountFailures = d.AccountFailures
	}
	if t.AccountWindow <= 0 {
		t.AccountWindow = d.AccountWindow
	}
	if t.AddressFailures <= 0 {
		t.AddressFailures = d.AddressFailures
	}
	if t.AddressWindow <= 0 {
		t.AddressWindow = d.AddressWindow
	}
	return t
}

// maxLoginKey bounds the login in a throttle key: a longer one (no real
// login is) is keyed by its hash, so a hostile client cannot make the
// database store megabytes of key.
const maxLoginKey = 128

// AccountKey is the throttle key of the login typed: "login:" and the
// login in lower case, so "Ana" and "ana" are throttled together.
func AccountKey(login string) string {
	l := strings.ToLower(login)
	if len(l) > maxLoginKey {
		h := sha256.Sum256([]byte(l))
		return "login:sha256:" + hex.EncodeToString(h[:])
	}
	return "login:" + l
}

// AddressKey is the throttle key of a client address: "addr:" and the
// IPv4 address, or the IPv6 address's /64, since one subscriber (one
// attacker) has a whole /64 to rotate through. An invalid address (a
// RemoteAddr that could not be read) is "addr:unknown".
func AddressKey(addr netip.Addr) string {
	addr = addr.WithZone("").Unmap()
	switch {
	case !addr.IsValid():
		return "addr:unknown"
	case addr.Is6():
		p, _ := addr.Prefix(64) // never fails for an IPv6 address
		return "addr:" + p.String()
	}
	return "addr:" + addr.String()
}

// The steps of a sign-in, whose attempts are counted apart for an
// account: a right password must not wipe the count of wrong TOTP codes,
// or a thief who has the password could guess codes without end.
const (
	StepPassword = "password"
	StepCode     = "code"
)

// stepKey is the account key of a step: AccountKey for the password,
// "code:"+… for the TOTP code.
func stepKey(step, login string) string {
	if step == StepCode {
		return "code:" + strings.TrimPrefix(AccountKey(login), "login:")
	}
	return AccountKey(login)
}

// Attempt counts one sign-in attempt at step (StepPassword, StepCode) for
// login from addr at now, before it is checked, and says whether it may
// be checked; if not, retryAfter is how long until one may (whole
// seconds, at least one). Counting first, one statement a key, is what
// makes the limits hold when many attempts arrive at once, on any
// replica: a burst cannot all pass a check made before any of it is
// counted. An attempt that turns out right is taken back (Succeeded), so
// what stays counted are the wrong ones and those refused.
func (t Throttle) Attempt(ctx context.Context, c Counter, step, login string, addr netip.Addr, now time.Time) (ok bool, retryAfter time.Duration, err error) {
	t = t.withDefaults()
	for _, k := range []struct {
		key    string
		limit  int
		window time.Duration
	}{{stepKey(step, login), t.AccountFailures, t.AccountWindow}, {AddressKey(addr), t.AddressFailures, t.AddressWindow}} {
		res, err := c.Hit(ctx, k.key, k.window, now)
		if err != nil {
			return false, 0, fmt.Errorf("counting a sign-in attempt on %s: %w", k.key, err)
		}
		if res.Count > k.limit {
			retryAfter = max(retryAfter, wait(res.ResetAt, now))
		}
	}
	return retryAfter == 0, retryAfter, nil
}

// Succeeded takes back a right attempt: the account's count at step is
// cleared (its earlier wrong attempts forgiven), and the address's count
// loses this one attempt only, so an office whose staff all sign in from
// one address at nine is not locked out by its own right passwords, while
// one success does not buy more guesses at other accounts.
func (t Throttle) Succeeded(ctx context.Context, c Counter, step, login string, addr netip.Addr) error {
	if err := c.ClearThrottle(ctx, stepKey(step, login)); err != nil {
		return fmt.Errorf("clearing the sign-in count of %q: %w", login, err)
	}
	if err := c.Unhit(ctx, AddressKey(addr)); err != nil {
		return fmt.Errorf("taking back a sign-in attempt from %s: %w", addr, err)
	}
	return nil
}

// RequestLimit is the admin API's request rate policy: N requests a
// Window per key (a token, or the address of requests without one).
// Zero fields take DefaultRequestLimit's.
type RequestLimit struct {
	N      int
	Window time.Duration
}

// DefaultRequestLimit: 600 requests a minute, ten a second on average,
// ample for a script and a bound on a runaway one.
var DefaultRequestLimit = RequestLimit{N: 600, Window: time.Minute}

// requestKeyPrefix keeps the request counts apart from the login
// throttle's, which use the same address keys.
const requestKeyPrefix = "req:"

// TokenRequestKey is the request-limit key of an API token (by its
// store ID, which outlives a rename and is never reused).
func TokenRequestKey(id int64) string { return fmt.Sprintf("token:%d", id) }

// Take counts one request on key (TokenRequestKey, or AddressKey for a
// request without a token) at now and says whether it is within the
// limit; if not, retryAfter is how long until the window ends. Refused
// requests count too, so a client that does not wait stays refused until
// the window ends, and no longer.
func (l RequestLimit) Take(ctx context.Context, c Counter, key string, now time.Time) (ok bool, retryAfter time.Duration, err error) {
	if l.N <= 0 {
		l.N = DefaultRequestLimit.N
	}
	if l.Window <= 0 {
		l.Window = DefaultRequestLimit.Window
	}
	res, err := c.Hit(ctx, requestKeyPrefix+key, l.Window, now)
	if err != nil {
		return false, 0, fmt.Errorf("counting a request of %s: %w", key, err)
	}
	if res.Count > l.N {
		return false, wait(res.ResetAt, now), nil
	}
	return true, 0, nil
}

// wait is the time from now to resetAt in whole seconds, rounded up, and
// at least one (for a Retry-After header, and a database clock a little
// behind).
func wait(resetAt, now time.Time) time.Duration {
	d := resetAt.Sub(now)
	if d <= time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}
