package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func genKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pubOf(k ed25519.PrivateKey) PublicKey { return NewPublicKey(k.Public().(ed25519.PublicKey)) }

func signedKeySet(t testing.TB, ks KeySet, root ed25519.PrivateKey) Envelope {
	b, err := json.Marshal(ks)
	if err != nil {
		t.Fatal(err)
	}
	return Sign(PayloadKeys, b, root)
}

func TestVerifyKeySet(t *testing.T) {
	root, rel, on := genKey(t), genKey(t), genKey(t)
	trust := &Trust{Version: TrustVersion, RootKeys: []PublicKey{pubOf(root)}}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	good := KeySet{Version: 3, IssuedAt: now, ExpiresAt: now.Add(time.Hour), ReleaseKeys: []PublicKey{pubOf(rel)}, OnlineKeys: []PublicKey{pubOf(on)}}
	if ks, err := VerifyKeySet(ptr(signedKeySet(t, good, root)), trust, now); err != nil || ks.Version != 3 {
		t.Fatalf("good key set: %+v, %v", ks, err)
	}
	bad := func(edit func(*KeySet)) KeySet { ks := good; edit(&ks); return ks }
	for _, tc := range []struct {
		name string
		env  Envelope
		want string
	}{
		{"signed by the release key", signedKeySet(t, good, rel), "no signature by a trusted key"},
		{"expired", signedKeySet(t, good, root), "expired"}, // checked at now+2h below
		{"no online key", signedKeySet(t, bad(func(k *KeySet) { k.OnlineKeys = nil }), root), "no online key"},
		{"zero version", signedKeySet(t, bad(func(k *KeySet) { k.Version = 0 }), root), "not positive"},
		{"one key in two roles", signedKeySet(t, bad(func(k *KeySet) { k.OnlineKeys = k.ReleaseKeys }), root), "one role"},
		{"root as release key", signedKeySet(t, bad(func(k *KeySet) { k.ReleaseKeys = []PublicKey{pubOf(root)} }), root), "one role"},
		{"key with a false ID", signedKeySet(t, bad(func(k *KeySet) { k.ReleaseKeys = []PublicKey{{ID: pubOf(on).ID, Ed25519: pubOf(rel).Ed25519}} }), root), "not a well-formed"},
		{"a release envelope", Sign(PayloadRelease, []byte(`{}`), root), "expected a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := now
			if tc.name == "expired" {
				at = now.Add(2 * time.Hour)
			}
			_, err := VerifyKeySet(&tc.env, trust, at)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if tc.name == "expired" && !errors.Is(err, ErrKeySetExpired) {
				t.Errorf("expired key set: %v is not ErrKeySetExpired", err)
			}
		})
	}
}

func TestParseTrust(t *testing.T) {
	root := pubOf(genKey(t))
	good, _ := json.Marshal(Trust{Version: TrustVersion, RootKeys: []PublicKey{root}})
	if tr, err := ParseTrust(good); err != nil || tr.RootKeys[0].ID != root.ID {
		t.Fatalf("good trust: %v", err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"version 1", `{"version":1,"release_keys":[],"online_keys":[]}`, "fresh trust.json"},
		{"version 3", `{"version":3,"root_keys":[]}`, "not supported"},
		{"no root", `{"version":2,"root_keys":[]}`, "no root key"},
		{"unknown field", `{"version":2,"root_keys":[],"extra":1}`, "malformed"},
		{"short key", `{"version":2,"root_keys":[{"id":"00","ed25519":"AAAA"}]}`, "well-formed"},
		{"not JSON", `trust me`, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseTrust([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// FuzzVerifyKeySet: whatever bytes arrive as a key set, verification never
// panics, and what it accepts is signed by the root, well formed and fresh.
func FuzzVerifyKeySet(f *testing.F) {
	root := genKey(f)
	trust := &Trust{Version: TrustVersion, RootKeys: []PublicKey{pubOf(root)}}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	good, _ := json.Marshal(KeySet{Version: 1, ExpiresAt: now.Add(time.Hour), ReleaseKeys: []PublicKey{pubOf(genKey(f))}, OnlineKeys: []PublicKey{pubOf(genKey(f))}})
	f.Add(good, true)
	f.Add([]byte(`{"version":1,"version":2}`), true)
	f.Add([]byte(`{"version":1,"expires_at":"2031-01-01T00:00:00Z","release_keys":[],"online_keys":[]}`), true)
	f.Add([]byte(`null`), false)
	f.Fuzz(func(t *testing.T, payload []byte, signed bool) {
		env := Envelope{PayloadType: PayloadKeys, Payload: payload}
		if signed {
			env = Sign(PayloadKeys, payload, root)
		}
		ks, err := VerifyKeySet(&env, trust, now)
		if err != nil {
			return
		}
		if !signed {
			t.Fatal("an unsigned key set verified")
		}
		if ks.Check(trust) != nil || !now.Before(ks.ExpiresAt) {
			t.Fatalf("accepted a bad key set %+v", ks)
		}
	})
}

// FuzzParseTrust: a trust file never panics the parser, and what parses
// names well-formed root keys.
func FuzzParseTrust(f *testing.F) {
	good, _ := json.Marshal(Trust{Version: TrustVersion, RootKeys: []PublicKey{pubOf(genKey(f))}})
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2,"root_keys":[{"id":"x","ed25519":""}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseTrust(data)
		if err != nil {
			return
		}
		for _, k := range tr.RootKeys {
			if k.check() != nil {
				t.Fatalf("accepted a malformed root key %+v", k)
			}
		}
	})
}
