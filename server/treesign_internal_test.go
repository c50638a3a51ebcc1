package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// Requests signed at once with two keys (a rotation under way) each get
// their own payload back, signed by their own key; no request is lost or
// waits for ever, however they interleave.
func TestTreeSignerKeysAndPayloads(t *testing.T) {
	var keys [2]ed25519.PrivateKey
	var pubs [2]api.PublicKey
	for i := range keys {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[i], pubs[i] = priv, api.NewPublicKey(pub)
	}
	var ts treeSigner
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			payload := fmt.Appendf(nil, `{"n":%d}`, i)
			env, err := ts.sign(payload, keys[i%2])
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			got, err := env.Verify(api.PayloadLatest, []api.PublicKey{pubs[i%2]})
			if err != nil || !bytes.Equal(got, payload) {
				t.Errorf("request %d: %q, %v", i, got, err)
			}
			if _, err := env.Verify(api.PayloadLatest, []api.PublicKey{pubs[1-i%2]}); err == nil {
				t.Errorf("request %d verified with the other key", i)
			}
		})
	}
	wg.Wait()
	if ts.busy || len(ts.pending) != 0 {
		t.Errorf("after all: busy %v, %d pending", ts.busy, len(ts.pending))
	}
}

// A leader that finds no signing under way signs at once, even right after
// a busy spell; one handed the lead with answers waiting, after a tree of
// more than one, waits for the answers in flight.
func TestTreeSignerWaitsOnlyWhenBusy(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var waits int
	ts := treeSigner{last: 50, sleep: func(time.Duration) { waits++ }}
	if _, err := ts.sign([]byte(`{"n":1}`), key); err != nil {
		t.Fatal(err)
	}
	if waits != 0 {
		t.Fatalf("an idle server's request waited %d times", waits)
	}
	// Busy: a leader is signing; two requests queue behind it.
	ts.mu.Lock()
	ts.busy, ts.last = true, 2
	ts.mu.Unlock()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			if _, err := ts.sign(fmt.Appendf(nil, `{"n":%d}`, i+2), key); err != nil {
				t.Error(err)
			}
		})
	}
	for {
		ts.mu.Lock()
		n := len(ts.pending)
		ts.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ts.mu.Lock()
	ts.pending[0].lead = true // what the busy leader does when it ends
	close(ts.pending[0].done)
	ts.mu.Unlock()
	wg.Wait()
	if waits != 1 {
		t.Errorf("the handed leader of a busy server waited %d times, want 1", waits)
	}
}

// A signature that fails (a malformed key panics in ed25519.Sign) fails
// the answers of its tree, and the signer serves the next ones: no
// request waits for a leader that is gone.
func TestTreeSignerSurvivesAFailedSignature(t *testing.T) {
	_, good, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var ts treeSigner
	if _, err := ts.sign([]byte(`{}`), ed25519.PrivateKey("short")); err == nil {
		t.Fatal("a malformed key signed")
	}
	done := make(chan error, 1)
	go func() {
		_, err := ts.sign([]byte(`{}`), good)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after a failed tree: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the signer hangs after a failed tree")
	}
}
