package server

import (
	"encoding/hex"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/ratelimit"
)

// Kinds of attempt key: who, or what credential, is trying.
const (
	keyAddr    = "addr"
	keyCode    = "code"
	keyHWKey   = "hwkey"
	keySession = "session"
)

func attemptKey(kind, id string) string { return kind + ":" + id }

// codeKey keys an update code by the hash the store keeps, never by the
// code itself.
func codeKey(hash []byte) string { return hex.EncodeToString(hash) }

// clientAddr is the address a request came from, as the limiter keys it:
// the peer's IP (an IPv6 client by its /64, which one subscriber
// typically has whole). X-Forwarded-For is not trusted: behind a proxy
// every client shares the proxy's address.
func clientAddr(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// maskSession shows enough of a session ID to find it in the logs (30
// bits), not enough to open its page, which shows the Internet code.
func maskSession(id string) string {
	const shown = len("s_") + 6
	if len(id) <= shown {
		return "…"
	}
	return id[:shown] + "…"
}

// limiter returns s.Limiter, making one with the defaults on the server's
// clock the first time: limiting is on unless a caller configures it.
func (s *Server) limiter() *ratelimit.Limiter {
	s.limiterOnce.Do(func() {
		if s.Limiter == nil {
			s.Limiter = ratelimit.New(ratelimit.Limits{Now: s.Now})
		}
	})
	return s.Limiter
}

// attempt is one request's try at a credential: the keys it was admitted
// under, and how it ended. A handler defers end.
type attempt struct {
	s       *Server
	tickets []attemptTicket
	outcome ratelimit.Outcome
}

type attemptTicket struct {
	ratelimit.Ticket
	kind, shown string // for the log: the key's kind and a masked identity
}

func (s *Server) newAttempt() *attempt { return &attempt{s: s} }

// admit asks for kind:id before anything about it is evaluated. Refused,
// it answers 429 itself: the attempt then changes nothing and costs
// nothing. shown is the identity as it may be logged.
func (a *attempt) admit(w http.ResponseWriter, r *http.Request, kind, id, shown string) bool {
	t, wait, ok := a.s.limiter().Begin(attemptKey(kind, id))
	if !ok {
		writeRateLimited(w, r, kind, shown, wait)
		return false
	}
	a.tickets = append(a.tickets, attemptTicket{Ticket: t, kind: kind, shown: shown})
	return true
}

// admitAddr admits the request's client address.
func (a *attempt) admitAddr(w http.ResponseWriter, r *http.Request) bool {
	addr := clientAddr(r)
	return a.admit(w, r, keyAddr, addr, addr)
}

func (a *attempt) fail()    { a.outcome = ratelimit.Failed }
func (a *attempt) succeed() { a.outcome = ratelimit.Succeeded }

// end records the outcome under every key admitted, and logs each block
// it starts (once per block, so a flood of refused attempts does not
// flood the log).
func (a *attempt) end() {
	for _, t := range a.tickets {
		o := a.outcome
		if t.kind == keyAddr && o == ratelimit.Succeeded {
			// An attacker with one valid code must not reset his
			// address's count.
			o = ratelimit.NotJudged
		}
		if d := a.s.limiter().End(t.Ticket, o); d > 0 {
			a.s.logger().Warn("failed attempts: blocked", "kind", t.kind, "who", t.shown, "blocked_for", d)
		}
	}
}

// writeRateLimited answers an attempt refused while its key is blocked.
func writeRateLimited(w http.ResponseWriter, r *http.Request, kind, shown string, wait time.Duration) {
	secs := retryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	waitFor := i18n.M("%d seconds", secs) // the catalogs have its plural forms
	var msg i18n.Message
	switch kind {
	case keyCode:
		msg = i18n.M("this update code was refused too many times (check it against your receipt); wait %s and try again", waitFor)
	case keySession:
		msg = i18n.M("too many wrong Internet codes were typed for this session; wait %s and try again", waitFor)
	case keyHWKey:
		msg = i18n.M("too many attempts with hardware key %s failed; wait %s and try again", shown, waitFor)
	default:
		msg = i18n.M("too many wrong codes from this address; wait %s and try again", waitFor)
	}
	writeError(w, r, http.StatusTooManyRequests, api.CodeRateLimited, msg)
}

// retryAfterSeconds is a wait in whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
