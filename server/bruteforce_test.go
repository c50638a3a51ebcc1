package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/ratelimit"
	"github.com/aktual/aktual/server/store"
)

// The limiter against attackers over real HTTP on loopback: the real
// handler, a real SQLite store, clients bound to their own source
// addresses (Linux routes all of 127/8 to loopback).

// countingStore is the real store, counting the reserves that reach it:
// each is one evaluation of a credential.
type countingStore struct {
	store.Store
	reserves *atomic.Int64
}

func (c countingStore) Reserve(ctx context.Context, p store.ReserveParams) (store.Reservation, store.Entitlement, error) {
	c.reserves.Add(1)
	return c.Store.Reserve(ctx, p)
}

// from is a client whose connections leave from source address ip.
type from struct {
	ip   string
	http *http.Client
}

// clientFrom returns a client bound to ip, or skips the test when the
// system cannot bind it (outside Linux, 127.0.0.2 is usually not local).
func clientFrom(t *testing.T, serverURL, ip string) from {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	probe, err := d.DialContext(t.Context(), "tcp", strings.TrimPrefix(serverURL, "http://"))
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Skipf("cannot send from %s (%v): this test needs a system that routes all of 127/8 to loopback, as Linux does", ip, err)
	} else if err != nil {
		t.Fatalf("dialling from %s: %v", ip, err)
	}
	probe.Close()
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return from{ip: ip, http: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// post sends a JSON body from c.
func (c from) post(t *testing.T, url, path, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("POST %s from %s: %v", path, c.ip, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s from %s: reading body: %v", path, c.ip, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// lockedBuffer is a log the server's goroutines write while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// waitFor returns the log once it says want; a handler logs as it
// returns, just after its answer has left.
func (b *lockedBuffer) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		s := b.buf.String()
		b.mu.Unlock()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %q does not say %q", s, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wrongCode is a well-formed update code (every check digit right) that
// no customer has: it reaches the store unless the limiter stops it.
func wrongCode(t *testing.T) string {
	t.Helper()
	c, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	return c.String()
}

// wantRateLimited requires a 429 rate_limited answer whose Retry-After is
// retryAfter seconds and whose message says why and what to do.
func wantRateLimited(t *testing.T, r reply, retryAfter int, why string) {
	t.Helper()
	e := wantError(t, r, http.StatusTooManyRequests, api.CodeRateLimited)
	if got := r.header.Get("Retry-After"); got != strconv.Itoa(retryAfter) {
		t.Errorf("Retry-After %q, want %d", got, retryAfter)
	}
	wait := fmt.Sprintf("wait %d seconds and try again", retryAfter)
	if retryAfter == 1 {
		wait = "wait 1 second and try again"
	}
	if !strings.Contains(e.Message, why) || !strings.Contains(e.Message, wait) {
		t.Errorf("message %q does not say %q and %q", e.Message, why, wait)
	}
}

// TestBruteForceFromOneAddress: an attacker at 127.0.0.2 sends thousands
// of wrong codes. Past the allowance he is answered 429 without his codes
// being looked up; the customer at 127.0.0.1 is not throttled; the
// counts do not move; and his block ends when Retry-After said, doubling.
func TestBruteForceFromOneAddress(t *testing.T) {
	clk := &testClock{}
	clk.Set(classicStart)
	var evaluated atomic.Int64
	f := newFixtureWith(t, func(s *server.Server) {
		s.Now = clk.Now
		s.Store = countingStore{Store: s.Store, reserves: &evaluated}
		// s.Limiter stays nil: the defaults a real server runs with.
	})
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	attacker := clientFrom(t, f.url, "127.0.0.2")
	before := f.standing(t, code)

	const attempts = 2000
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	answered := map[int]int{}
	for i := range attempts {
		if ctx.Err() != nil {
			t.Fatalf("the attack took longer than 2 minutes; stopped after %d attempts", i)
		}
		body := mustJSON(t, reserveRequest(wrongCode(t), "app", fmt.Sprintf("guess-%d", i)))
		r := attacker.post(t, f.url, "/v1/reservations", body)
		answered[r.status]++
		switch {
		case i < ratelimit.DefaultAllowance+1:
			// The allowance, and the failure past it that starts the block.
			wantError(t, r, http.StatusForbidden, api.CodeUnknownCredential)
		default:
			wantRateLimited(t, r, 1, "too many wrong codes from this address")
		}
		if t.Failed() {
			t.Fatalf("attempt %d: %v", i+1, r)
		}
	}
	took := time.Since(start)
	t.Logf("%d wrong codes from %s in %v: %d looked up (%d answered 403), %d refused with 429",
		attempts, attacker.ip, took.Round(time.Millisecond), evaluated.Load(), answered[http.StatusForbidden], answered[http.StatusTooManyRequests])
	if got, want := evaluated.Load(), int64(ratelimit.DefaultAllowance+1); got != want {
		t.Errorf("%d wrong codes reached the store, want %d", got, want)
	}
	f.wantUnchanged(t, code, before)

	t.Run("the customer at another address is not throttled", func(t *testing.T) {
		n := evaluated.Load()
		rr := f.mustReserve(t, code, "app", "alice-1")
		if rr.Remaining != before.Remaining-1 || evaluated.Load() != n+1 {
			t.Errorf("reserved with %d remaining, want %d", rr.Remaining, before.Remaining-1)
		}
		after := f.standing(t, code)
		if c := after.Counts; c.Purchased != c.Remaining+c.Held+c.Consumed ||
			c != counts(before.Purchased, before.Remaining-1, before.Held+1, before.Consumed) || after.ledger != before.ledger+1 {
			t.Errorf("after the attack and one reservation: %+v, want %+v less one remaining, one more held, one more ledger row", after, before)
		}
	})

	t.Run("even the right code is refused while the attacker's address is blocked", func(t *testing.T) {
		n := evaluated.Load()
		wantRateLimited(t, attacker.post(t, f.url, "/v1/reservations", mustJSON(t, reserveRequest(code, "app", "stolen"))),
			1, "this address")
		if evaluated.Load() != n {
			t.Error("a blocked attempt reached the store")
		}
	})

	t.Run("the block ends after Retry-After, then doubles", func(t *testing.T) {
		elapsed := time.Duration(0)
		for _, retryAfter := range []int{1, 2, 4, 8} {
			n := evaluated.Load()
			wait := time.Duration(retryAfter) * time.Second
			clk.Set(classicStart.Add(elapsed + wait - time.Millisecond))
			wantRateLimited(t, attacker.post(t, f.url, "/v1/reservations", mustJSON(t, reserveRequest(wrongCode(t), "app", "early"))),
				1, "this address")
			clk.Set(classicStart.Add(elapsed + wait))
			elapsed += wait
			wantError(t, attacker.post(t, f.url, "/v1/reservations", mustJSON(t, reserveRequest(wrongCode(t), "app", "late"))),
				http.StatusForbidden, api.CodeUnknownCredential)
			if evaluated.Load() != n+1 {
				t.Fatalf("after a %ds block, %d attempts reached the store, want 1", retryAfter, evaluated.Load()-n)
			}
			wantRateLimited(t, attacker.post(t, f.url, "/v1/reservations", mustJSON(t, reserveRequest(wrongCode(t), "app", "again"))),
				2*retryAfter, "this address")
		}
	})
}

// TestBruteForceOneCredentialFromTwoAddresses: the same wrong update code,
// and guesses at one classic session's Internet code, sent from two
// addresses in turn: neither address reaches its own allowance, but the
// credential's key is blocked.
func TestBruteForceOneCredentialFromTwoAddresses(t *testing.T) {
	t.Run("update code", func(t *testing.T) {
		clk := &testClock{}
		clk.Set(classicStart)
		var evaluated atomic.Int64
		var log lockedBuffer
		f := newFixtureWith(t, func(s *server.Server) {
			s.Now = clk.Now
			s.Store = countingStore{Store: s.Store, reserves: &evaluated}
			s.Logger = slog.New(slog.NewTextHandler(&log, nil))
		})
		f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
		code := f.activate(t, "alice", 3)
		before := f.standing(t, code)
		a, b := clientFrom(t, f.url, "127.0.0.2"), clientFrom(t, f.url, "127.0.0.3")
		same := wrongCode(t)

		for i := range ratelimit.DefaultAllowance + 1 {
			c := []from{a, b}[i%2]
			wantError(t, c.post(t, f.url, "/v1/reservations", mustJSON(t, reserveRequest(same, "app", fmt.Sprintf("k%d", i)))),
				http.StatusForbidden, api.CodeUnknownCredential)
		}
		for _, c := range []from{a, b} {
			wantRateLimited(t, c.post(t, f.url, "/v1/reservations", mustJSON(t, reserveRequest(same, "app", "blocked"))),
				1, "this update code was refused too many times")
		}
		if got, want := evaluated.Load(), int64(ratelimit.DefaultAllowance+1); got != want {
			t.Errorf("%d attempts with the code reached the store, want %d", got, want)
		}
		// The addresses themselves are not blocked: another code is looked up.
		wantError(t, b.post(t, f.url, "/v1/reservations", mustJSON(t, reserveRequest(wrongCode(t), "app", "other"))),
			http.StatusForbidden, api.CodeUnknownCredential)
		f.wantUnchanged(t, code, before)

		// The block is logged once, as a warning naming the code masked.
		masked := api.MaskCode(same)
		want := "level=WARN msg=\"failed attempts: blocked\" kind=code who=" + masked + " blocked_for=1s"
		lines := log.waitFor(t, want)
		if strings.Count(lines, "blocked_for=") != 1 {
			t.Errorf("log %q, want one block logged", lines)
		}
		digits := strings.ReplaceAll(same, "-", "")
		if strings.Contains(strings.ReplaceAll(lines, "-", ""), digits[:api.CodeDigits-api.CodeGroupSize]) {
			t.Errorf("log %q shows more of the code than its last group", lines)
		}
	})

	t.Run("classic session", func(t *testing.T) {
		clk := &testClock{}
		clk.Set(classicStart)
		// An allowance below MaxInternetCodeAttempts: with the default the
		// session locks itself first.
		const allowance = 2
		var log lockedBuffer
		f := newFixtureWith(t, func(s *server.Server) {
			s.Now = clk.Now
			s.Limiter = ratelimit.New(ratelimit.Limits{Allowance: allowance, Now: clk.Now})
			s.Logger = slog.New(slog.NewTextHandler(&log, nil))
		})
		f.publish(t, classicApp, api.SeriesClassic, "1.0.0", "linux", "amd64")
		f.publish(t, classicApp, api.SeriesClassic, "2.0.0", "linux", "amd64")
		c := &classicFixture{fixture: f, clock: clk}
		c.key = c.issue(t, f.inst.Keys.Release, keySerial, nil, time.Time{})
		c.activateClassic(t, keyCustomer, keySerial, 3)
		s := c.open(t, c.key)
		right := c.code(s.ID)
		before := c.keyStanding(t, keySerial)
		a, b := clientFrom(t, f.url, "127.0.0.2"), clientFrom(t, f.url, "127.0.0.3")

		for i := range allowance + 1 {
			cl := []from{a, b}[i%2]
			wantError(t, cl.post(t, f.url, "/v1/reservations", mustJSON(t, classicRequest(s.ID, otherCode(right, i+1), "guess"))),
				http.StatusForbidden, api.CodeUnknownCredential)
		}
		c.wantStored(t, s.ID, api.SessionOpen, allowance+1)
		// b has failed once, a twice: only the session's key is past its allowance.
		wantRateLimited(t, b.post(t, f.url, "/v1/reservations", mustJSON(t, classicRequest(s.ID, otherCode(right, 8), "guess"))),
			1, "too many wrong Internet codes were typed for this session")
		c.wantStored(t, s.ID, api.SessionOpen, allowance+1) // the refused guess was not counted, nor checked
		c.wantKeyUnchanged(t, keySerial, before)

		clk.Set(classicStart.Add(time.Second))
		c.mustReserveClassic(t, s.ID, right.String(), "at-last", before.Remaining-1)

		// The session ID opens the page that shows its Internet code: the
		// log names it only by a prefix.
		lines := log.waitFor(t, "kind=session who="+s.ID[:8]+"…")
		if strings.Contains(lines, s.ID) || strings.Contains(lines, right.String()) || strings.Contains(lines, string(right)) {
			t.Errorf("log %q shows the session ID or its Internet code", lines)
		}
	})
}

// A copy of a hardware key's licence file, without the key, sent with bad
// proofs from several addresses, must not lock the real key out: its owner,
// from an address of his own, still opens a session. Before, the failures
// were counted per serial, and the owner got 429.
func TestCopiedLicenceDoesNotLockTheOwnerOut(t *testing.T) {
	clk := &testClock{}
	clk.Set(classicStart)
	const allowance = 2
	f := newFixtureWith(t, func(s *server.Server) {
		s.Now = clk.Now
		s.Limiter = ratelimit.New(ratelimit.Limits{Allowance: allowance, Now: clk.Now})
	})
	f.publish(t, classicApp, api.SeriesClassic, "1.0.0", "linux", "amd64")
	f.publish(t, classicApp, api.SeriesClassic, "2.0.0", "linux", "amd64")
	c := &classicFixture{fixture: f, clock: clk}
	c.key = c.issue(t, f.inst.Keys.Release, keySerial, nil, time.Time{})
	c.activateClassic(t, keyCustomer, keySerial, 3)
	before := c.keyStanding(t, keySerial)

	// The attacker's key: the owner's licence, another private key.
	_, stranger, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	copied := copiedKey{Key: c.key, priv: stranger}
	var attackers []from
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		attackers = append(attackers, clientFrom(t, f.url, ip))
	}
	for round := range allowance + 2 {
		for _, a := range attackers {
			r := a.post(t, f.url, "/v1/classic/sessions", mustJSON(t, c.sessionRequest(t, copied, c.challenge(t))))
			if round <= allowance {
				wantError(t, r, http.StatusForbidden, api.CodeUnknownCredential)
			} else if r.status != http.StatusTooManyRequests {
				t.Errorf("attempt %d from %s past the allowance: %d, want 429 for that address", round+1, a.ip, r.status)
			}
		}
	}
	owner := clientFrom(t, f.url, "127.0.0.9")
	r := owner.post(t, f.url, "/v1/classic/sessions", mustJSON(t, c.sessionRequest(t, c.key, c.challenge(t))))
	if s := decodeOK[api.ClassicSession](t, r); s.State != api.SessionOpen {
		t.Fatalf("the owner's session %+v, want an open one", s)
	}
	c.wantKeyUnchanged(t, keySerial, before)
}

// copiedKey is a licence file copied without its key: it signs with
// another private key.
type copiedKey struct {
	hwkey.Key
	priv ed25519.PrivateKey
}

func (k copiedKey) Sign(_ context.Context, challenge []byte) ([]byte, error) {
	return ed25519.Sign(k.priv, challenge), nil
}
