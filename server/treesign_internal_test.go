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
