package api

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"testing"
)

// FuzzFollowRoots: a chain of root keys comes from the server, which a
// client never trusts. FollowRoots never panics, and a chain it accepts
// leads, one version at a time, from the trusted root: each link signed by
// the root before it, the result the last link's keys at the trusted
// version plus the chain's length.
func FuzzFollowRoots(f *testing.F) {
	seeded := func(b byte) ed25519.PrivateKey {
		return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
	}
	r1, r2, r3 := seeded(1), seeded(2), seeded(3)
	trust := NewTrust(1, []PublicKey{pubOf(r1)})
	good, _ := json.Marshal([]Envelope{handOver(f, 2, r1, r2), handOver(f, 3, r2, r3)})
	f.Add(good)
	one, _ := json.Marshal([]Envelope{handOver(f, 2, r1, r2)})
	f.Add(one)
	skipped, _ := json.Marshal([]Envelope{handOver(f, 3, r1, r2)})
	f.Add(skipped)
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"payload_type":"aktual.root.v1","payload":"e30=","signatures":[]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var chain []Envelope
		if json.Unmarshal(data, &chain) != nil {
			return
		}
		got, err := FollowRoots(trust, chain)
		if err != nil {
			return
		}
		if got.Root() != trust.Root()+int64(len(chain)) {
			t.Fatalf("accepted %d links from root %d, and got root %d", len(chain), trust.Root(), got.Root())
		}
		prev := trust
		for i := range chain {
			if _, err := chain[i].Verify(PayloadRoot, prev.RootKeys); err != nil {
				t.Fatalf("accepted link %d, not signed by the root before it: %v", i, err)
			}
			var st RootStatement
			if err := DecodeStrict(chain[i].Payload, &st); err != nil || st.Version != prev.Root()+1 || len(st.RootKeys) == 0 {
				t.Fatalf("accepted link %d: %+v, %v", i, st, err)
			}
			prev = NewTrust(st.Version, st.RootKeys)
		}
		if len(chain) > 0 && !bytes.Equal(mustJSON(t, prev.RootKeys), mustJSON(t, got.RootKeys)) {
			t.Fatalf("followed to keys %v, the last link names %v", got.RootKeys, prev.RootKeys)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
