package server

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aktual/aktual/server/ratelimit"
)

// An address's success must not reset its failures: an attacker with one
// valid code would otherwise reset his address's count between guesses.
func TestAttemptSuccessKeepsAnAddressBlocked(t *testing.T) {
	at := time.Unix(1e9, 0)
	s := &Server{Limiter: ratelimit.New(ratelimit.Limits{Allowance: 2, Now: func() time.Time { return at }})}
	r := httptest.NewRequest("POST", "/v1/reservations", nil)
	try := func(ok bool) bool {
		a := s.newAttempt()
		defer a.end()
		w := httptest.NewRecorder()
		if !a.admitAddr(w, r) {
			return false
		}
		if !a.admit(w, r, keyCode, "c0de", "c0de") {
			return false
		}
		if ok {
			a.succeed()
		} else {
			a.fail()
		}
		return true
	}
	try(false)
	try(false)
	try(true) // the code was right: the code's failures go, the address's stay
	at = at.Add(time.Hour - time.Second)
	if !try(false) {
		t.Fatal("a third failure was refused before it was judged")
	}
	if try(false) {
		t.Fatal("a success reset the address's failures: the fourth failure in a row was admitted at once")
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 1},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{time.Second + time.Nanosecond, 2},
		{1500 * time.Millisecond, 2},
		{15 * time.Minute, 900},
	} {
		if got := retryAfterSeconds(tc.d); got != tc.want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"127.0.0.2:40000", "127.0.0.2"},
		{"[::ffff:192.0.2.7]:443", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:80", "2001:db8:1:2::/64"}, // the same subscriber
		{"[::1]:8420", "::/64"},
		{"pipe", "pipe"},
	} {
		r := httptest.NewRequest("POST", "/v1/reservations", nil)
		r.RemoteAddr = tc.remote
		if got := clientAddr(r); got != tc.want {
			t.Errorf("clientAddr(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

func TestMaskSession(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"s_abcdefghijklmnopqrstuvwxyz", "s_abcdef…"},
		{"s_abcdef", "…"},
		{"", "…"},
	} {
		if got := maskSession(tc.id); got != tc.want {
			t.Errorf("maskSession(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}
