package api

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
)

// Payload types name what a signature is about, so a signature made for one
// kind of statement can never be presented as another.
const (
	PayloadRelease = "aktual.release.v1"
	PayloadLatest  = "aktual.latest.v1"
)

// MaxEnvelopeSize bounds every signed document a client or server reads.
const MaxEnvelopeSize = 64 << 10

// ErrSignature is wrapped by every verification failure.
var ErrSignature = errors.New("signature verification failed")

// Envelope carries a payload exactly as signed. The signature is verified
// over these raw bytes; only then is the payload parsed (strictly).
type Envelope struct {
	PayloadType string      `json:"payload_type"`
	Payload     []byte      `json:"payload"` // base64 in JSON
	Signatures  []Signature `json:"signatures"`
}

// Signature is one Ed25519 signature over the envelope's PAE, or, with
// Tree, over the root of a tree of payloads that holds this one (tree.go:
// latest answers to installers that ask for it).
type Signature struct {
	KeyID string     `json:"keyid"`
	Sig   []byte     `json:"sig"`
	Tree  *TreeProof `json:"tree,omitempty"`
}

// PublicKey is a trusted Ed25519 public key and its ID.
type PublicKey struct {
	ID      string `json:"id"`
	Ed25519 []byte `json:"ed25519"`
}

// KeyID derives the stable ID of an Ed25519 public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// NewPublicKey wraps pub with its ID.
func NewPublicKey(pub ed25519.PublicKey) PublicKey {
	return PublicKey{ID: KeyID(pub), Ed25519: append([]byte(nil), pub...)}
}

// pae is the pre-authentication encoding (as in DSSE): the payload type and
// the payload, each length-prefixed, so neither can be shifted into the other.
func pae(payloadType string, payload []byte) []byte {
	b := []byte("aktual-sig-v1 ")
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(payload)), 10)
	b = append(b, ' ')
	return append(b, payload...)
}

// Sign returns an envelope over payload signed by key.
func Sign(payloadType string, payload []byte, key ed25519.PrivateKey) Envelope {
	pub := key.Public().(ed25519.PublicKey)
	return Envelope{
		PayloadType: payloadType,
		Payload:     append([]byte(nil), payload...),
		Signatures: []Signature{{
			KeyID: KeyID(pub),
			Sig:   ed25519.Sign(key, pae(payloadType, payload)),
		}},
	}
}

// Verify checks that the envelope is of payloadType and carries a valid
// signature by one of keys, and returns the signed payload bytes.
func (e *Envelope) Verify(payloadType string, keys []PublicKey) ([]byte, error) {
	if e.PayloadType != payloadType {
		return nil, refuseSignature("the signed document is a %q, not the %q expected", e.PayloadType, payloadType)
	}
	if len(e.Payload) > MaxEnvelopeSize {
		return nil, refuseSignature("the signed document is too large")
	}
	msg := pae(e.PayloadType, e.Payload)
	for _, s := range e.Signatures {
		for _, k := range keys {
			if k.ID != s.KeyID || len(k.Ed25519) != ed25519.PublicKeySize {
				continue
			}
			m := msg
			if s.Tree != nil {
				var ok bool
				if m, ok = treeSignedMessage(e.PayloadType, e.Payload, s.Tree); !ok {
					continue
				}
			}
			if ed25519.Verify(ed25519.PublicKey(k.Ed25519), m, s.Sig) {
				return e.Payload, nil
			}
		}
	}
	if len(e.Signatures) == 0 {
		return nil, refuseSignature("the document is not signed")
	}
	return nil, refuseSignature("no signature by a trusted key (it is signed by key %s)", e.Signatures[0].KeyID)
}

// VerifyInto verifies the envelope and strictly decodes its payload into v.
func (e *Envelope) VerifyInto(payloadType string, keys []PublicKey, v any) error {
	payload, err := e.Verify(payloadType, keys)
	if err != nil {
		return err
	}
	if err := DecodeStrict(payload, v); err != nil {
		return refuseSignature("the signed document is malformed: %v", err)
	}
	return nil
}

// refuseSignature is a signature check that fails: ErrSignature, with the
// reason in a form the installer shows in the customer's language.
func refuseSignature(format string, args ...any) *TrustError {
	e := refuse(format, args...)
	e.kind = ErrSignature
	return e
}
