package hwkey

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
)

func TestChallengeSigning(t *testing.T) {
	key, err := ParseFile(licenceFileBytes(t, fixedKey(1), "HK-1", 7))
	if err != nil {
		t.Fatal(err)
	}
	pub := ed25519.PublicKey(key.Licence().PublicKey)
	c1, c2 := []byte("challenge one"), []byte("challenge two")
	sig, err := key.Sign(t.Context(), c1)
	if err != nil {
		t.Fatal(err)
	}
	otherSig, err := ParseFile(licenceFileBytes(t, fixedKey(1), "HK-2", 8))
	if err != nil {
		t.Fatal(err)
	}
	sigByOther, err := otherSig.Sign(t.Context(), c1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		pub       ed25519.PublicKey
		challenge []byte
		sig       []byte
		want      bool
	}{
		{"valid", pub, c1, sig, true},
		{"signature over another challenge", pub, c2, sig, false},
		{"signature by another key", pub, c1, sigByOther, false},
		// Domain separation: the key's raw signature of the challenge
		// (as another protocol using the same key would make) is refused.
		{"raw signature without the domain prefix", pub, c1, ed25519.Sign(fixedKey(7), c1), false},
		{"truncated signature", pub, c1, sig[:63], false},
		{"no signature", pub, c1, nil, false},
		{"short public key (no panic)", pub[:31], c1, sig, false},
		{"no public key (no panic)", nil, c1, sig, false},
		{"empty challenge", pub, nil, ed25519.Sign(fixedKey(7), ChallengeMessage(nil)), false},
		{"oversize challenge", pub, make([]byte, MaxChallenge+1), ed25519.Sign(fixedKey(7), ChallengeMessage(make([]byte, MaxChallenge+1))), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyChallenge(tt.pub, tt.challenge, tt.sig); got != tt.want {
				t.Fatalf("VerifyChallenge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChallengeMessage(t *testing.T) {
	c := []byte{0, 1, 2}
	m := ChallengeMessage(c)
	if want := append([]byte("aktual-hwkey-challenge-v1\x00"), c...); !bytes.Equal(m, want) {
		t.Fatalf("ChallengeMessage = %q, want %q", m, want)
	}
	m[len(m)-1] = 9
	if c[2] != 2 {
		t.Fatal("ChallengeMessage shares memory with its argument")
	}
}

func TestSignRefuses(t *testing.T) {
	key, err := ParseFile(licenceFileBytes(t, fixedKey(1), "HK-1", 7))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := key.Sign(t.Context(), nil); err == nil {
		t.Error("signed an empty challenge")
	}
	if _, err := key.Sign(t.Context(), make([]byte, MaxChallenge+1)); err == nil {
		t.Error("signed an oversize challenge")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := key.Sign(ctx, []byte("c")); err == nil {
		t.Error("signed with a cancelled context")
	}
}
