package server

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/aktual/aktual/api"
)

// FuzzAppendAnswer holds the hand-written encoder to encoding/json's
// MarshalIndent for any envelope its fields can hold.
func FuzzAppendAnswer(f *testing.F) {
	f.Add("aktual.latest.v1", []byte(`{"a":1}`), "0123abcd", []byte{1, 2}, true, uint32(3), []byte("0123456789abcdef0123456789abcdef"), 2)
	f.Add("<\x00\u2028>", []byte(nil), "k\"", []byte(nil), false, uint32(0), []byte(nil), 0)
	f.Fuzz(func(t *testing.T, typ string, payload []byte, keyID string, sig []byte, tree bool, index uint32, hash []byte, depth int) {
		env := api.Envelope{PayloadType: typ, Payload: payload, Signatures: []api.Signature{{KeyID: keyID, Sig: sig}}}
		if tree {
			p := &api.TreeProof{Index: index}
			if depth >= 0 {
				p.Path = make([][]byte, depth%20)
				for i := range p.Path {
					p.Path[i] = hash
				}
			}
			env.Signatures[0].Tree = p
		}
		want, err := json.MarshalIndent(env, "  ", "  ")
		if err != nil {
			t.Skip(err)
		}
		if got := appendAnswer(nil, env); !bytes.Equal(got, want) {
			t.Fatalf("appendAnswer:\n%s\nMarshalIndent:\n%s", got, want)
		}
	})
}
