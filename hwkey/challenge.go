package hwkey

import "crypto/ed25519"

// challengeDomain prefixes every challenge a key signs, so a key's
// signature can never be taken for a signature over anything else (a
// licence, a release, another protocol's message).
const challengeDomain = "aktual-hwkey-challenge-v1\x00"

// MaxChallenge bounds the challenge a key signs or a verifier accepts.
const MaxChallenge = 1024

// ChallengeMessage returns the bytes a key signs for challenge.
func ChallengeMessage(challenge []byte) []byte {
	m := make([]byte, 0, len(challengeDomain)+len(challenge))
	m = append(m, challengeDomain...)
	return append(m, challenge...)
}

// VerifyChallenge reports whether sig is the signature by pub of
// ChallengeMessage(challenge). Bad lengths are false, never a panic.
func VerifyChallenge(pub ed25519.PublicKey, challenge, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize ||
		len(challenge) == 0 || len(challenge) > MaxChallenge {
		return false
	}
	return ed25519.Verify(pub, ChallengeMessage(challenge), sig)
}
