// Package ratelimit limits failed attempts per key (a client address, a
// credential): a few failures are free, then each blocks the key for twice
// as long as the one before.
package ratelimit

import (
	"container/list"
	"sync"
	"time"

	"github.com/aktual/aktual/internal/clock"
)

// Failed-attempt limits. A key (a client address, or one credential) may
// fail DefaultAllowance times for free; each further failure
// blocks it for twice as long as the one before, from DefaultFirstBlock up
// to DefaultMaxBlock. A key that has not failed for DefaultForgetAfter
// starts afresh. Against 66-bit update codes this is far more than enough
// (an address gets a few guesses an hour); the allowance is generous
// because an office behind one address shares it, and the installer
// catches typos before it asks the server, so a customer seldom fails
// even once.
const (
	DefaultAllowance   = 10
	DefaultFirstBlock  = time.Second
	DefaultMaxBlock    = 15 * time.Minute
	DefaultForgetAfter = time.Hour
	// DefaultMaxKeys bounds the limiter's memory (a few hundred
	// bytes a key, some 30 MB in all): past it, the key that failed
	// longest ago is forgotten.
	DefaultMaxKeys = 100_000
)

// Limits configures an Limiter. Zero fields take the
// defaults. The limiter is in memory: each replica of a server keeps its
// own, and a restart forgets. An Allowance of math.MaxInt never blocks
// (for a fuzzer, which must reach the store).
type Limits struct {
	Allowance   int           // failures before any block
	FirstBlock  time.Duration // the block after the first failure past the allowance
	MaxBlock    time.Duration // the longest block
	ForgetAfter time.Duration // a key with no failure this long is forgotten; at least MaxBlock
	MaxKeys     int           // keys remembered at most
	Now         clock.Func
}

func (p Limits) withDefaults() Limits {
	if p.Allowance <= 0 {
		p.Allowance = DefaultAllowance
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
		p.MaxKeys = DefaultMaxKeys
	}
	return p
}

// blockFor is how long a key is blocked after its n-th failure in a row:
// nothing within the allowance, then FirstBlock, doubling up to MaxBlock.
func (p Limits) blockFor(failures int) time.Duration {
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

func (p Limits) stale(r *record, now time.Time) bool {
	return now.Sub(r.last) >= p.ForgetAfter
}

// wait is how long an attempt under r's key must wait before it may be
// evaluated: zero when it may go now. Past its first failure, a key has
// only as many attempts in flight as failures it has left, and one once
// it has none left: so a burst of parallel requests gets no more
// evaluations than a patient sequence would.
func (p Limits) wait(r *record, now time.Time) time.Duration {
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

// An Limiter limits failed attempts per key. It is safe for
// concurrent use.
type Limiter struct {
	limits Limits
	mu     sync.Mutex
	keys   map[string]*record
	order  *list.List // of *record, least recently failed first
}

// New returns a limiter with limits (zero fields: defaults).
func New(limits Limits) *Limiter {
	return &Limiter{limits: limits.withDefaults(), keys: map[string]*record{}, order: list.New()}
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// Outcome is how an attempt ended.
type Outcome int

const (
	// NotJudged: the credential was neither accepted nor refused (no
	// updates left, a server error, a malformed request).
	NotJudged Outcome = iota
	Failed            // the credential was refused
	Succeeded         // the credential was accepted: its key's failures are forgotten
)

// Ticket is one admitted attempt under one key: End it exactly once.
type Ticket struct {
	key string
	rec *record // holds one in-flight count; nil when the key had no record
}

// Begin asks to evaluate an attempt under key: refused, it returns how
// long to wait; admitted, a ticket to end.
func (l *Limiter) Begin(key string) (Ticket, time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.limits.Now.Now()
	r := l.keys[key]
	if r == nil {
		return Ticket{key: key}, 0, true
	}
	if l.limits.stale(r, now) {
		l.remove(r)
		return Ticket{key: key}, 0, true
	}
	if d := l.limits.wait(r, now); d > 0 {
		return Ticket{}, d, false
	}
	r.inflight++
	return Ticket{key: key, rec: r}, 0, true
}

// End records how an admitted attempt ended and returns the block a
// failure started (zero for none). A success forgets the key's failures:
// end a key that a success must not reset (a client address: an attacker
// with one valid code must not reset his address's count) as NotJudged.
func (l *Limiter) End(t Ticket, o Outcome) time.Duration {
	if t.key == "" {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.rec != nil && t.rec.inflight > 0 {
		t.rec.inflight--
	}
	switch o {
	case Succeeded:
		if r := l.keys[t.key]; r != nil {
			l.remove(r)
		}
	case Failed:
		return l.fail(t.key, l.limits.Now.Now())
	}
	return 0
}

func (l *Limiter) fail(key string, now time.Time) time.Duration {
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
func (l *Limiter) sweep(now time.Time) {
	for e := l.order.Front(); e != nil; e = l.order.Front() {
		r := e.Value.(*record)
		if !l.limits.stale(r, now) {
			return
		}
		l.remove(r)
	}
}

func (l *Limiter) remove(r *record) {
	l.order.Remove(r.elem)
	delete(l.keys, r.key)
}
