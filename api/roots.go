package api

import (
	"crypto/ed25519"
	"slices"
	"time"
)

// PayloadRoot is the payload type of a root statement: which keys are the
// vendor's root at a version of the root.
const PayloadRoot = "aktual.root.v1"

// QueryRoot is the query parameter by which a client names the root
// version it trusts (…/latest?root=1, POST /v1/install?root=1). Only an
// answer to a question that names it carries Roots: an installer from
// before root rotation decodes answers strictly and would refuse the
// field.
const QueryRoot = "root"

// MaxRootLinks bounds a chain of root statements, as sent and as
// followed: far more rotations than a vendor makes in the life of an
// installation.
const MaxRootLinks = 64

// RootStatement names the vendor's root keys at a version of the root: 1
// for the original root, one more for each rotation. As in TUF's root.json
// chain, statement N+1 is signed by a key of root N (the old root vouches
// for the new) and by a key of root N+1 that root N does not hold (the new
// root proves it is held), so a client that trusts root N can follow the
// chain to the newest root without a new trust file. Statement 1 is signed
// by its own keys: the start of the chain, kept by the server.
type RootStatement struct {
	Version  int64       `json:"version"`
	RootKeys []PublicKey `json:"root_keys"`
	IssuedAt time.Time   `json:"issued_at"`
}

// Root is the version of the root whose keys the trust holds: 1 (the
// original root) when the trust file does not say.
func (t *Trust) Root() int64 {
	if t.RootVersion < 1 {
		return 1
	}
	return t.RootVersion
}

// NewTrust is the trust in the root keys of version version. The original
// root's leaves root_version out, so that its trust.json reads, byte for
// byte, as it did before root rotation (an older installer reads it).
func NewTrust(version int64, keys []PublicKey) *Trust {
	t := &Trust{Version: TrustVersion, RootKeys: slices.Clone(keys)}
	if version > 1 {
		t.RootVersion = version
	}
	return t
}

// AddSignature signs the envelope with one more key: a root statement is
// signed by the old root and by the new one.
func (e *Envelope) AddSignature(key ed25519.PrivateKey) {
	pub := key.Public().(ed25519.PublicKey)
	e.Signatures = append(e.Signatures, Signature{KeyID: KeyID(pub), Sig: ed25519.Sign(key, pae(e.PayloadType, e.Payload))})
}

// FollowRoots follows a chain of root statements from trust: each link
// must be the next version, signed by a key of the root before it and by
// a new key of its own, and name well-formed keys. It returns the trust in
// the last link's keys (trust itself for an empty chain). Any broken link
// refuses the whole chain (ErrSignature): the caller keeps trust as it is.
func FollowRoots(trust *Trust, chain []Envelope) (*Trust, error) {
	if len(chain) > MaxRootLinks {
		return nil, refuseSignature("the chain of root keys has %d links, more than the %d followed", len(chain), MaxRootLinks)
	}
	cur := trust
	for i := range chain {
		st, err := verifyRootLink(&chain[i], cur)
		if err != nil {
			return nil, err
		}
		cur = NewTrust(st.Version, st.RootKeys)
	}
	return cur, nil
}

// verifyRootLink checks that env hands the root over from prev to the
// next version, and returns its statement.
func verifyRootLink(env *Envelope, prev *Trust) (*RootStatement, error) {
	if _, err := env.Verify(PayloadRoot, prev.RootKeys); err != nil {
		return nil, refuseSignature("a link of the chain of root keys is not signed by the root before it: %w", err)
	}
	var st RootStatement
	if err := DecodeStrict(env.Payload, &st); err != nil {
		return nil, refuseSignature("a link of the chain of root keys is malformed: %v", err)
	}
	if st.Version != prev.Root()+1 {
		return nil, refuseSignature("the chain of root keys gives version %d after version %d (a gap, or a replayed older link)", st.Version, prev.Root())
	}
	if err := checkRootKeys(&st); err != nil {
		return nil, err
	}
	fresh := slices.DeleteFunc(slices.Clone(st.RootKeys), func(k PublicKey) bool { return hasKeyID(prev.RootKeys, k.ID) })
	if len(fresh) == 0 {
		return nil, refuseSignature("root version %d names no new key", st.Version)
	}
	if _, err := env.Verify(PayloadRoot, fresh); err != nil {
		return nil, refuseSignature("root version %d is not signed by a key of its own: %w", st.Version, err)
	}
	return &st, nil
}

// checkRootKeys: a statement names at least one root key, each well
// formed, none twice, and a time.
func checkRootKeys(st *RootStatement) error {
	if len(st.RootKeys) == 0 || len(st.RootKeys) > MaxRootLinks || st.IssuedAt.IsZero() {
		return refuseSignature("root version %d names no root key or no time", st.Version)
	}
	for i, k := range st.RootKeys {
		if err := k.check(); err != nil {
			return refuseSignature("root version %d: %w", st.Version, err)
		}
		if hasKeyID(st.RootKeys[:i], k.ID) {
			return refuseSignature("root version %d names key %s twice", st.Version, k.ID)
		}
	}
	return nil
}

// OriginalRoot verifies statement 1, the start of the chain a server
// keeps: the original root's keys, signed by one of them.
func OriginalRoot(env *Envelope) (*Trust, error) {
	var st RootStatement
	if env.PayloadType != PayloadRoot || len(env.Payload) > MaxEnvelopeSize {
		return nil, refuseSignature("the signed document is a %q, not the %q expected", env.PayloadType, PayloadRoot)
	}
	if err := DecodeStrict(env.Payload, &st); err != nil {
		return nil, refuseSignature("a link of the chain of root keys is malformed: %v", err)
	}
	if st.Version != 1 {
		return nil, refuseSignature("the chain of root keys gives version %d after version %d (a gap, or a replayed older link)", st.Version, 0)
	}
	if err := checkRootKeys(&st); err != nil {
		return nil, err
	}
	if _, err := env.Verify(PayloadRoot, st.RootKeys); err != nil {
		return nil, refuseSignature("root version %d is not signed by a key of its own: %w", st.Version, err)
	}
	return NewTrust(1, st.RootKeys), nil
}

func hasKeyID(keys []PublicKey, id string) bool {
	return slices.ContainsFunc(keys, func(k PublicKey) bool { return k.ID == id })
}
