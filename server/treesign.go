package server

import (
	"crypto/ed25519"
	"fmt"
	"sync"

	"github.com/aktual/aktual/api"
)

// maxTreeBatch bounds the answers one tree signature covers: the path in
// each answer is at most log2 of it (8 hashes, about 480 bytes of
// indented JSON more).
const maxTreeBatch = 256

// treeSigner signs latest answers for installers that accept a signature
// over a tree of answers (sig=tree; api/tree.go). It signs as a group
// commit writes: a request that finds no signing under way signs at once,
// alone, so an idle server answers as fast as before; requests that
// arrive while a tree is being signed wait and are signed together in the
// next one. Under load, one Ed25519 signature then serves as many answers
// as arrived during the last one, and each answer costs its hashes.
type treeSigner struct {
	mu      sync.Mutex
	busy    bool // a leader is signing
	pending []*treeRequest
}

// A leader does not wait for more answers than have queued: measured with
// wrk's 64 connections (closed loop), a leader that waited 1 ms for the
// answers in flight made trees of most of them and saved CPU on two
// loaded cores, but on a faster machine capped the answers at 64 a
// millisecond and more (24k/s, where signing each alone gave 35k/s):
// every answer waited the millisecond (docs/benchmarks.md, "Issue 21").

// treeRequest is one answer waiting for its signature.
type treeRequest struct {
	payload []byte
	key     ed25519.PrivateKey
	env     api.Envelope
	err     error         // the signing failed (it panicked): no envelope
	lead    bool          // set before done closes: sign the next batch
	done    chan struct{} // closed when env is set, or lead
}

// sign returns payload's envelope, signed by key in a tree with the
// answers made at the same moment.
func (t *treeSigner) sign(payload []byte, key ed25519.PrivateKey) (api.Envelope, error) {
	r := &treeRequest{payload: payload, key: key, done: make(chan struct{})}
	t.mu.Lock()
	t.pending = append(t.pending, r)
	if t.busy {
		t.mu.Unlock()
		<-r.done
		if !r.lead {
			return r.env, r.err
		}
		// Handed the lead by the signer before: sign the next batch,
		// which holds this request.
		t.lead()
		return r.env, r.err
	}
	t.busy = true
	t.mu.Unlock()
	t.lead()
	return r.env, r.err
}

// lead signs one batch of the pending requests, then hands the lead to
// the first request still waiting, or ends it: no request signs more than
// the batch it is in, so none waits behind a stream of others.
func (t *treeSigner) lead() {
	t.mu.Lock()
	n := min(len(t.pending), maxTreeBatch)
	batch := t.pending[:n:n]
	t.pending = t.pending[n:]
	t.mu.Unlock()

	signBatchSafely(batch)

	t.mu.Lock()
	var next *treeRequest
	if len(t.pending) > 0 {
		next = t.pending[0]
		next.lead = true
	} else {
		t.busy = false
		t.pending = nil // let the backing array go
	}
	t.mu.Unlock()
	for _, r := range batch {
		if !r.lead { // a leader's own done was closed to hand it the lead
			close(r.done)
		}
	}
	if next != nil {
		close(next.done)
	}
}

// signBatchSafely is signBatch, with a panic (a malformed key) turned into
// each unsigned request's error: the lead is handed on and the requests
// waiting are answered whatever happens here, so one failure can never
// leave every later answer waiting for a leader that is gone.
func signBatchSafely(batch []*treeRequest) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("signing a tree of latest answers: %v", p)
			for _, r := range batch {
				if len(r.env.Signatures) == 0 {
					r.err = err
				}
			}
		}
	}()
	signBatch(batch)
}

// signBatch signs each key's requests of batch in one tree (one key,
// except during a key rotation).
func signBatch(batch []*treeRequest) {
	for len(batch) > 0 {
		key := batch[0].key
		var same, rest []*treeRequest
		for _, r := range batch {
			if r.key.Equal(key) {
				same = append(same, r)
			} else {
				rest = append(rest, r)
			}
		}
		payloads := make([][]byte, len(same))
		for i, r := range same {
			payloads[i] = r.payload
		}
		for i, env := range api.SignTree(api.PayloadLatest, payloads, key) {
			same[i].env = env
		}
		batch = rest
	}
}
