package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func newKey(t testing.TB) (ed25519.PrivateKey, PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv, NewPublicKey(pub)
}

func TestEnvelopeVerify(t *testing.T) {
	key, pub := newKey(t)
	other, otherPub := newKey(t)
	payload := []byte(`{"product":"ledger","version":"2.0.0"}`)
	good := Sign(PayloadRelease, payload, key)

	tamper := func(f func(e *Envelope)) Envelope {
		e := Sign(PayloadRelease, payload, key)
		f(&e)
		return e
	}
	tests := []struct {
		name string
		env  Envelope
		typ  string
		keys []PublicKey
		ok   bool
	}{
		{"valid", good, PayloadRelease, []PublicKey{pub}, true},
		{"valid among others", good, PayloadRelease, []PublicKey{otherPub, pub}, true},
		{"untrusted key", good, PayloadRelease, []PublicKey{otherPub}, false},
		{"no keys", good, PayloadRelease, nil, false},
		{"other key claims trusted id", tamper(func(e *Envelope) {
			e.Signatures[0].Sig = Sign(PayloadRelease, payload, other).Signatures[0].Sig
		}), PayloadRelease, []PublicKey{pub}, false},
		{"payload changed", tamper(func(e *Envelope) { e.Payload[3] ^= 1 }), PayloadRelease, []PublicKey{pub}, false},
		{"type confusion", good, PayloadLatest, []PublicKey{pub}, false},
		{"type relabelled", tamper(func(e *Envelope) { e.PayloadType = PayloadLatest }), PayloadLatest, []PublicKey{pub}, false},
		{"unsigned", tamper(func(e *Envelope) { e.Signatures = nil }), PayloadRelease, []PublicKey{pub}, false},
		{"truncated signature", tamper(func(e *Envelope) { e.Signatures[0].Sig = e.Signatures[0].Sig[:10] }), PayloadRelease, []PublicKey{pub}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.env.Verify(tt.typ, tt.keys)
			if tt.ok {
				if err != nil || string(got) != string(payload) {
					t.Fatalf("Verify = %q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("Verify error = %v, want ErrSignature", err)
			}
		})
	}
}

func TestVerifyIntoIsStrict(t *testing.T) {
	key, pub := newKey(t)
	for name, payload := range map[string]string{
		"duplicate key": `{"product":"ledger","product":"evil"}`,
		"unknown field": `{"product":"ledger","extra":1}`,
		"trailing data": `{"product":"ledger"} {}`,
		"nested dup":    `{"product":"x","latest":{"payload_type":"a","payload_type":"b"}}`,
		"case-folded":   `{"product":"ledger","Product":"evil"}`,
	} {
		t.Run(name, func(t *testing.T) {
			env := Sign(PayloadLatest, []byte(payload), key)
			var st LatestStatement
			if err := env.VerifyInto(PayloadLatest, []PublicKey{pub}, &st); !errors.Is(err, ErrSignature) {
				t.Fatalf("VerifyInto accepted %s: %v", payload, err)
			}
		})
	}
}

func TestEnvelopeJSONRoundTrip(t *testing.T) {
	key, pub := newKey(t)
	st := ReleaseStatement{Product: "p", Series: SeriesPro, Version: "1.0.0", OS: "linux", Arch: "amd64", SHA256: "ab", Size: 3}
	payload, _ := json.Marshal(st)
	data, _ := json.Marshal(Sign(PayloadRelease, payload, key))
	var env Envelope
	if err := DecodeStrict(data, &env); err != nil {
		t.Fatal(err)
	}
	var back ReleaseStatement
	if err := env.VerifyInto(PayloadRelease, []PublicKey{pub}, &back); err != nil || !reflect.DeepEqual(back, st) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func FuzzVerifyEnvelope(f *testing.F) {
	key, pub := newKey(f)
	payload, _ := json.Marshal(ReleaseStatement{Product: "p", Version: "1.0.0"})
	good, _ := json.Marshal(Sign(PayloadRelease, payload, key))
	f.Add(good)
	f.Add([]byte(`{"payload_type":"aktual.release.v1","payload":"e30=","signatures":[]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var env Envelope
		if DecodeStrict(data, &env) != nil {
			return
		}
		var st ReleaseStatement
		if err := env.VerifyInto(PayloadRelease, []PublicKey{pub}, &st); err == nil {
			// Only bytes signed by key verify: the payload must be ours.
			if string(env.Payload) != string(payload) {
				t.Fatalf("verified a payload that was never signed: %q", env.Payload)
			}
		}
	})
}

func FuzzDecodeStrict(f *testing.F) {
	f.Add([]byte(`{"version":1,"release_keys":[],"online_keys":[]}`))
	f.Add([]byte(`{"a":{"b":[1,{"c":2,"c":3}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tr Trust
		_ = DecodeStrict(data, &tr) // must not panic
		_, _ = ParseTrust(data)
	})
}
