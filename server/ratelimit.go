package server

import (
	"container/list"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

// Failed-attempt limits. A key (a client address, or one credential) may
// fail DefaultAttemptAllowance times for free; each further failure
// blocks it for twice as long as the one before, from DefaultFirstBlock up
// to DefaultMaxBlock. A key that has not failed for DefaultForgetAfter
// starts afresh. Against 66-bit update codes this is far more than enough
// (an address gets a few guesses an hour); the allowance is generous
// because an office behind one address shares it, and the installer
// catches typos before it asks the server, so a customer seldom fails
// even once.
const (
	DefaultAttemptAllowance = 10
	DefaultFirstBlock       = time.Second
	DefaultMaxBlock         = 15 * time.Minute
	DefaultForgetAfter      = time.Hour
	// DefaultMaxAttemptKeys bounds the limiter's memory (a few hundred
	// bytes a key, some 30 MB in all): past it, the key that failed
	// longest ago is forgotten.
	DefaultMaxAttemptKeys = 100_000
)

// AttemptLimits configures an AttemptLimiter. Zero fields take the
// defaults. The limiter is in memory: each replica of a server keeps its
// own, and a restart forgets. An Allowance of math.MaxInt never blocks
// (for a fuzzer, which must reach the store).
type AttemptLimits struct {
	Allowance   int           // failures before any block
	FirstBlock  time.Duration // the block after the first failure past the allowance
	MaxBlock    time.Duration // the longest block
	ForgetAfter time.Duration // a key with no failure this long is forgotten; at least MaxBlock
	MaxKeys     int           // keys remembered at most
	Now         func() time.Time
}

func (p AttemptLimits) withDefaults() AttemptLimits {
	if p.Allowance <= 0 {
		p.Allowance = DefaultAttemptAllowance
	}
	if p.FirstBlock <= 0 {
		p.FirstBlock = DefaultFirstBlock
	}
	if p.MaxBlock <= 0 {
		p.MaxBlock = DefaultMaxBlock
	}
	p.MaxBlock = max(p.MaxBlock, p.FirstBlock)
	if p.ForgetAfter <= 0 {
		p.ForgetAfter = DefaultForgetAfter
	}
	// A key forgotten while blocked would be unblocked early.
	p.ForgetAfter = max(p.ForgetAfter, p.MaxBlock)
	if p.MaxKeys <= 0 {
		p.MaxKeys = DefaultMaxAttemptKeys
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// blockFor is how long a key is blocked after its n-th failure in a row:
// nothing within the allowance, then FirstBlock, doubling up to MaxBlock.
func (p AttemptLimits) blockFor(failures int) time.Duration {
	over := failures - p.Allowance
	if over <= 0 {
		return 0
	}
	d := p.FirstBlock
	for i := 1; i < over && d < p.MaxBlock; i++ {
		d *= 2
	}
	return min(d, p.MaxBlock)
}

// record is what the limiter remembers of a key that failed.
type record struct {
	key      string
	failures int       // since the key was last forgotten
	last     time.Time // of the last failure
	until    time.Time // blocked before this
	inflight int       // attempts admitted and not yet ended
	elem     *list.Element
}

func (p AttemptLimits) stale(r *record, now time.Time) bool {
	return now.Sub(r.last) >= p.ForgetAfter
}

// wait is how long an attempt under r's key must wait before it may be
// evaluated: zero when it may go now. Past its first failure, a key has
// only as many attempts in flight as failures it has left, and one once
// it has none left: so a burst of parallel requests gets no more
// evaluations than a patient sequence would.
func (p AttemptLimits) wait(r *record, now time.Time) time.Duration {
	switch {
	case p.stale(r, now):
		return 0
	case now.Before(r.until):
		return r.until.Sub(now)
	case r.inflight == 0 || r.failures+r.inflight < p.Allowance:
		return 0
	default:
		return p.FirstBlock // the attempt in flight decides
	}
}

// An AttemptLimiter limits failed attempts per key. It is safe for
// concurrent use.
type AttemptLimiter struct {
	limits AttemptLimits
	mu     sync.Mutex
	keys   map[string]*record
	order  *list.List // of *record, least recently failed first
}

// NewAttemptLimiter returns a limiter with limits (zero fields: defaults).
func NewAttemptLimiter(limits AttemptLimits) *AttemptLimiter {
	return &AttemptLimiter{limits: limits.withDefaults(), keys: map[string]*record{}, order: list.New()}
}

// Len is the number of keys remembered.
func (l *AttemptLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// outcome is how an attempt ended.
type outcome int

const (
	// notJudged: the credential was neither accepted nor refused (no
	// updates left, a server error, a malformed request).
	notJudged outcome = iota
	failed
	succeeded
)

// ticket is one admitted attempt under one key: end it exactly once.
type ticket struct {
	key string
	rec *record // holds one in-flight count; nil when the key had no record
}

// begin asks to evaluate an attempt under key: refused, it returns how
// long to wait; admitted, a ticket to end.
func (l *AttemptLimiter) begin(key string) (ticket, time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.limits.Now()
	r := l.keys[key]
	if r == nil {
		return ticket{key: key}, 0, true
	}
	if l.limits.stale(r, now) {
		l.remove(r)
		return ticket{key: key}, 0, true
	}
	if d := l.limits.wait(r, now); d > 0 {
		return ticket{}, d, false
	}
	r.inflight++
	return ticket{key: key, rec: r}, 0, true
}

// end records how an admitted attempt ended and returns the block a
// failure started (zero for none). A success forgets a credential's
// failures, never an address's: an attacker with one valid code must not
// reset his address's count.
func (l *AttemptLimiter) end(t ticket, o outcome) time.Duration {
	if t.key == "" {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.rec != nil && t.rec.inflight > 0 {
		t.rec.inflight--
	}
	switch o {
	case succeeded:
		if r := l.keys[t.key]; r != nil && !isAddrKey(t.key) {
			l.remove(r)
		}
	case failed:
		return l.fail(t.key, l.limits.Now())
	}
	return 0
}

func (l *AttemptLimiter) fail(key string, now time.Time) time.Duration {
	r := l.keys[key]
	if r == nil {
		l.sweep(now)
		for len(l.keys) >= l.limits.MaxKeys {
			l.remove(l.order.Front().Value.(*record))
		}
		r = &record{key: key}
		r.elem = l.order.PushBack(r)
		l.keys[key] = r
	} else {
		if l.limits.stale(r, now) {
			r.failures, r.until = 0, time.Time{}
		}
		l.order.MoveToBack(r.elem)
	}
	r.failures++
	r.last = now
	d := l.limits.blockFor(r.failures)
	if d > 0 {
		r.until = now.Add(d)
	}
	return d
}

// sweep forgets keys that have not failed for ForgetAfter: they are the
// front of the order, so this costs only what it removes.
func (l *AttemptLimiter) sweep(now time.Time) {
	for e := l.order.Front(); e != nil; e = l.order.Front() {
		r := e.Value.(*record)
		if !l.limits.stale(r, now) {
			return
		}
		l.remove(r)
	}
}

func (l *AttemptLimiter) remove(r *record) {
	l.order.Remove(r.elem)
	delete(l.keys, r.key)
}

// Kinds of attempt key: who, or what credential, is trying.
const (
	keyAddr    = "addr"
	keyCode    = "code"
	keyHWKey   = "hwkey"
	keySession = "session"
)

func attemptKey(kind, id string) string { return kind + ":" + id }

func isAddrKey(key string) bool { return strings.HasPrefix(key, keyAddr+":") }

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
func (s *Server) limiter() *AttemptLimiter {
	s.limiterOnce.Do(func() {
		if s.Limiter == nil {
			s.Limiter = NewAttemptLimiter(AttemptLimits{Now: s.now})
		}
	})
	return s.Limiter
}

// attempt is one request's try at a credential: the keys it was admitted
// under, and how it ended. A handler defers end.
type attempt struct {
	s       *Server
	tickets []attemptTicket
	outcome outcome
}

type attemptTicket struct {
	ticket
	kind, shown string // for the log: the key's kind and a masked identity
}

func (s *Server) newAttempt() *attempt { return &attempt{s: s} }

// admit asks for kind:id before anything about it is evaluated. Refused,
// it answers 429 itself: the attempt then changes nothing and costs
// nothing. shown is the identity as it may be logged.
func (a *attempt) admit(w http.ResponseWriter, r *http.Request, kind, id, shown string) bool {
	t, wait, ok := a.s.limiter().begin(attemptKey(kind, id))
	if !ok {
		writeRateLimited(w, r, kind, shown, wait)
		return false
	}
	a.tickets = append(a.tickets, attemptTicket{ticket: t, kind: kind, shown: shown})
	return true
}

// admitAddr admits the request's client address.
func (a *attempt) admitAddr(w http.ResponseWriter, r *http.Request) bool {
	addr := clientAddr(r)
	return a.admit(w, r, keyAddr, addr, addr)
}

func (a *attempt) fail()    { a.outcome = failed }
func (a *attempt) succeed() { a.outcome = succeeded }

// end records the outcome under every key admitted, and logs each block
// it starts (once per block, so a flood of refused attempts does not
// flood the log).
func (a *attempt) end() {
	for _, t := range a.tickets {
		if d := a.s.limiter().end(t.ticket, a.outcome); d > 0 {
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
