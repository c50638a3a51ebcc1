package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func treePayloads(n int) [][]byte {
	ps := make([][]byte, n)
	for i := range ps {
		ps[i] = fmt.Appendf(nil, `{"nonce":"%032d"}`, i)
	}
	return ps
}

// Every answer of a tree verifies, alone, for every size of tree, and
// survives the trip through JSON that an answer makes.
func TestSignTreeVerifiesEachAnswer(t *testing.T) {
	key, pub := newKey(t)
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 100} {
		envs := SignTree(PayloadLatest, treePayloads(n), key)
		if len(envs) != n {
			t.Fatalf("%d payloads, %d envelopes", n, len(envs))
		}
		for i, e := range envs {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var back Envelope
			if err := DecodeStrict(b, &back); err != nil {
				t.Fatal(err)
			}
			got, err := back.Verify(PayloadLatest, []PublicKey{pub})
			if err != nil || !bytes.Equal(got, treePayloads(n)[i]) {
				t.Errorf("tree of %d, answer %d: %v", n, i, err)
			}
		}
	}
}

// Whatever is changed in a tree-signed answer, it no longer verifies.
func TestTreeSignatureRefusesTampering(t *testing.T) {
	key, pub := newKey(t)
	_, otherPub := newKey(t)
	fresh := func() Envelope { return SignTree(PayloadLatest, treePayloads(5), key)[2] }
	tests := []struct {
		name   string
		tamper func(e *Envelope)
		typ    string
		keys   []PublicKey
	}{
		{"the payload", func(e *Envelope) { e.Payload = append(e.Payload[:len(e.Payload)-1:len(e.Payload)-1], ' ') }, PayloadLatest, nil},
		{"another leaf's payload", func(e *Envelope) { e.Payload = treePayloads(5)[3] }, PayloadLatest, nil},
		{"the index", func(e *Envelope) { e.Signatures[0].Tree.Index = 3 }, PayloadLatest, nil},
		{"an index beyond the tree", func(e *Envelope) { e.Signatures[0].Tree.Index = 10 }, PayloadLatest, nil},
		{"a sibling hash", func(e *Envelope) { e.Signatures[0].Tree.Path[1] = bytes.Repeat([]byte{7}, 32) }, PayloadLatest, nil},
		{"a short sibling hash", func(e *Envelope) { e.Signatures[0].Tree.Path[0] = e.Signatures[0].Tree.Path[0][:31] }, PayloadLatest, nil},
		{"a level dropped", func(e *Envelope) { e.Signatures[0].Tree.Path = e.Signatures[0].Tree.Path[:2] }, PayloadLatest, nil},
		{"a level added", func(e *Envelope) {
			e.Signatures[0].Tree.Path = append(e.Signatures[0].Tree.Path, make([]byte, 32))
		}, PayloadLatest, nil},
		{"the proof removed (the root's signature as the payload's)", func(e *Envelope) { e.Signatures[0].Tree = nil }, PayloadLatest, nil},
		{"another key", func(*Envelope) {}, PayloadLatest, []PublicKey{otherPub}},
		{"a type that is never tree-signed", func(e *Envelope) { e.PayloadType = PayloadRelease }, PayloadRelease, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := fresh()
			tc.tamper(&e)
			keys := tc.keys
			if keys == nil {
				keys = []PublicKey{pub}
			}
			if _, err := e.Verify(tc.typ, keys); err == nil {
				t.Fatal("a tampered answer verified")
			}
		})
	}
	// A release signed in a tree (which the server never does) is refused
	// too: only latest answers may be.
	rel := SignTree(PayloadRelease, treePayloads(1), key)[0]
	if _, err := rel.Verify(PayloadRelease, []PublicKey{pub}); err == nil {
		t.Error("a tree-signed release verified")
	}
	// An ordinary signature with a proof attached is not a tree signature.
	plain := Sign(PayloadLatest, treePayloads(1)[0], key)
	plain.Signatures[0].Tree = &TreeProof{}
	if _, err := plain.Verify(PayloadLatest, []PublicKey{pub}); err == nil {
		t.Error("an ordinary signature verified as a tree's")
	}
}

// A proof deeper than MaxTreeDepth is refused before any hashing.
func TestTreeProofDepthBound(t *testing.T) {
	path := make([][]byte, MaxTreeDepth+1)
	for i := range path {
		path[i] = make([]byte, 32)
	}
	if _, ok := treeSignedMessage(PayloadLatest, nil, &TreeProof{Path: path}); ok {
		t.Error("a proof of depth 17 accepted")
	}
}

// FuzzTreeProof changes a valid answer's proof and payload at random: the
// answer verifies only when nothing that is signed changed.
func FuzzTreeProof(f *testing.F) {
	key, pub := newKey(f)
	envs := SignTree(PayloadLatest, treePayloads(6), key)
	good, _ := json.Marshal(envs[4])
	f.Add(good)
	f.Add([]byte(`{"payload_type":"aktual.latest.v1","payload":"e30=","signatures":[{"keyid":"x","sig":"","tree":{"index":1,"path":[""]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Envelope
		if err := DecodeStrict(data, &e); err != nil {
			return
		}
		payload, err := e.Verify(PayloadLatest, []PublicKey{pub})
		if err != nil {
			return
		}
		for _, want := range envs {
			if bytes.Equal(payload, want.Payload) {
				return
			}
		}
		t.Fatalf("verified a payload that was never signed: %q", payload)
	})
}
