package api

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

var rootTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// rootLink is statement st signed by each of keys.
func rootLink(t testing.TB, st RootStatement, keys ...ed25519.PrivateKey) Envelope {
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	env := Envelope{PayloadType: PayloadRoot, Payload: b}
	for _, k := range keys {
		env.AddSignature(k)
	}
	return env
}

// handOver is the link from root old to root fresh at version.
func handOver(t testing.TB, version int64, old, fresh ed25519.PrivateKey) Envelope {
	return rootLink(t, RootStatement{Version: version, RootKeys: []PublicKey{pubOf(fresh)}, IssuedAt: rootTime}, old, fresh)
}

func TestFollowRoots(t *testing.T) {
	r1, r2, r3, other := genKey(t), genKey(t), genKey(t), genKey(t)
	trust1 := NewTrust(1, []PublicKey{pubOf(r1)})
	l2, l3 := handOver(t, 2, r1, r2), handOver(t, 3, r2, r3)

	got, err := FollowRoots(trust1, []Envelope{l2, l3})
	if err != nil {
		t.Fatalf("a good chain of two links: %v", err)
	}
	if got.Root() != 3 || len(got.RootKeys) != 1 || got.RootKeys[0].ID != pubOf(r3).ID || got.Version != TrustVersion {
		t.Fatalf("followed to %+v, want root 3 with key %s", got, pubOf(r3).ID)
	}
	if got, err := FollowRoots(trust1, nil); err != nil || got != trust1 {
		t.Fatalf("an empty chain: %v, %v; want the trust unchanged", got, err)
	}
	trust2 := NewTrust(2, []PublicKey{pubOf(r2)})
	if got, err := FollowRoots(trust2, []Envelope{l3}); err != nil || got.Root() != 3 {
		t.Fatalf("from root 2: %+v, %v", got, err)
	}

	st := func(v int64, keys ...ed25519.PrivateKey) RootStatement {
		s := RootStatement{Version: v, IssuedAt: rootTime}
		for _, k := range keys {
			s.RootKeys = append(s.RootKeys, pubOf(k))
		}
		return s
	}
	tampered := handOver(t, 2, r1, r2)
	tampered.Payload = []byte(string(tampered.Payload[:len(tampered.Payload)-1]) + " }")
	swapped := handOver(t, 2, r1, r2)
	swapped.Payload, _ = json.Marshal(st(2, other))
	bad := []struct {
		name  string
		trust *Trust
		chain []Envelope
	}{
		{"signed only by the new root", trust1, []Envelope{rootLink(t, st(2, r2), r2)}},
		{"signed only by the old root", trust1, []Envelope{rootLink(t, st(2, r2), r1)}},
		{"not signed", trust1, []Envelope{rootLink(t, st(2, r2))}},
		{"a skipped version", trust1, []Envelope{handOver(t, 3, r1, r2)}},
		{"a gap in the chain", trust1, []Envelope{l2, handOver(t, 4, r2, r3)}},
		{"links out of order", trust1, []Envelope{l3, l2}},
		{"signed by a key that is not the previous root", trust1, []Envelope{handOver(t, 2, other, r2)}},
		{"second link signed by the first root", trust1, []Envelope{l2, handOver(t, 3, r1, r3)}},
		{"a tampered statement", trust1, []Envelope{tampered}},
		{"another statement under the signatures", trust1, []Envelope{swapped}},
		{"an older link replayed after a newer root", NewTrust(3, []PublicKey{pubOf(r3)}), []Envelope{l2, l3}},
		{"the same root again", NewTrust(2, []PublicKey{pubOf(r2)}), []Envelope{rootLink(t, st(3, r2), r2)}},
		{"no root key", trust1, []Envelope{rootLink(t, st(2), r1, r2)}},
		{"a key named twice", trust1, []Envelope{rootLink(t, st(2, r2, r2), r1, r2)}},
		{"no time", trust1, []Envelope{rootLink(t, RootStatement{Version: 2, RootKeys: []PublicKey{pubOf(r2)}}, r1, r2)}},
		{"a malformed key", trust1, []Envelope{rootLink(t, RootStatement{Version: 2, IssuedAt: rootTime,
			RootKeys: []PublicKey{{ID: "00", Ed25519: pubOf(r2).Ed25519}}}, r1, r2)}},
		{"an unknown field", trust1, []Envelope{func() Envelope {
			e := Envelope{PayloadType: PayloadRoot, Payload: []byte(`{"version":2,"root_keys":[],"issued_at":"2030-01-01T00:00:00Z","x":1}`)}
			e.AddSignature(r1)
			e.AddSignature(r2)
			return e
		}()}},
		{"a key set passed as a link", trust1, []Envelope{signedKeySet(t, KeySet{Version: 2}, r1)}},
		{"too many links", trust1, make([]Envelope, MaxRootLinks+1)},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			got, err := FollowRoots(c.trust, c.chain)
			var te *TrustError
			if err == nil || !errors.Is(err, ErrSignature) || !errors.As(err, &te) {
				t.Fatalf("followed to %+v (%v); want a TrustError of ErrSignature", got, err)
			}
		})
	}
}

// A statement keeps some keys of the root before it, if it adds one it
// proves it holds.
func TestFollowRootsKeepsAKey(t *testing.T) {
	r1, r2 := genKey(t), genKey(t)
	link := rootLink(t, RootStatement{Version: 2, RootKeys: []PublicKey{pubOf(r1), pubOf(r2)}, IssuedAt: rootTime}, r1, r2)
	if got, err := FollowRoots(NewTrust(1, []PublicKey{pubOf(r1)}), []Envelope{link}); err != nil || len(got.RootKeys) != 2 {
		t.Fatalf("%+v, %v", got, err)
	}
	onlyOld := rootLink(t, RootStatement{Version: 2, RootKeys: []PublicKey{pubOf(r1), pubOf(r2)}, IssuedAt: rootTime}, r1)
	if _, err := FollowRoots(NewTrust(1, []PublicKey{pubOf(r1)}), []Envelope{onlyOld}); !errors.Is(err, ErrSignature) {
		t.Fatalf("a link signed only by the key it keeps: %v", err)
	}
}

func TestOriginalRoot(t *testing.T) {
	r1, other := genKey(t), genKey(t)
	one := RootStatement{Version: 1, RootKeys: []PublicKey{pubOf(r1)}, IssuedAt: rootTime}
	got, err := OriginalRoot(ptr(rootLink(t, one, r1)))
	if err != nil || got.Root() != 1 || got.RootKeys[0].ID != pubOf(r1).ID {
		t.Fatalf("%+v, %v", got, err)
	}
	two := one
	two.Version = 2
	for name, env := range map[string]Envelope{
		"signed by another key": rootLink(t, one, other),
		"version 2":             rootLink(t, two, r1),
		"a key set":             signedKeySet(t, KeySet{Version: 1}, r1),
	} {
		if _, err := OriginalRoot(&env); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The original root's trust file is, byte for byte, what an installer from
// before root rotation wrote and reads; a later root's names its version.
func TestTrustRootVersion(t *testing.T) {
	r1 := genKey(t)
	b, err := NewTrust(1, []PublicKey{pubOf(r1)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var old struct { // api.Trust before root rotation, decoded as it did
		Version  int         `json:"version"`
		RootKeys []PublicKey `json:"root_keys"`
	}
	if err := DecodeStrict(b, &old); err != nil {
		t.Fatalf("an older installer cannot read the original root's trust file: %v\n%s", err, b)
	}
	b3, _ := NewTrust(3, []PublicKey{pubOf(r1)}).Marshal()
	t3, err := ParseTrust(b3)
	if err != nil || t3.Root() != 3 {
		t.Fatalf("root 3's trust file: %+v, %v", t3, err)
	}
	if _, err := ParseTrust([]byte(`{"version":2,"root_version":-1,"root_keys":[]}`)); err == nil {
		t.Error("a negative root version was read")
	}
}
