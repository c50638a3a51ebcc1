package api

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Keys have roles, as in TUF and tailscale's distsign: an offline root key,
// whose public half is all a client is given, signs the key set; the key set
// names the release keys (which sign releases at publish time) and the
// online keys (which sign the server's fresh answers). Rotating a release or
// online key is a new key set signed by the root: no new client is needed.
const (
	RoleRoot    = "root"
	RoleRelease = "release"
	RoleOnline  = "online"
)

// PayloadKeys is the payload type of a root-signed key set.
const PayloadKeys = "aktual.keys.v1"

// TrustVersion is the trust file format this package reads.
const TrustVersion = 2

// KeySet is what the root key signs: the keys of each role. The first key
// of a role is the one the server signs with now; the others are retired
// but still trusted (releases signed before a rotation stay valid). A
// revoked key is one the set no longer lists.
type KeySet struct {
	// Version grows with every change; a client refuses a set older than
	// one it has seen, so a revoked key cannot come back in an old set.
	Version     int64       `json:"version"`
	IssuedAt    time.Time   `json:"issued_at"`
	ExpiresAt   time.Time   `json:"expires_at"`
	ReleaseKeys []PublicKey `json:"release_keys"`
	OnlineKeys  []PublicKey `json:"online_keys"`
}

// Trust is the client's trust file (trust.json): the root public keys. The
// keys that sign releases and answers come, root-signed, from the server.
//
// RootVersion is the version of the root the keys are (RootStatement); it
// is left out for the original root, 1, so that the original root's trust
// file is the one an installer from before root rotation reads (it decodes
// strictly). A trust file of a later root names it: only an installer that
// follows the chain of root keys can use that root anyway.
type Trust struct {
	Version     int         `json:"version"`
	RootVersion int64       `json:"root_version,omitempty"`
	RootKeys    []PublicKey `json:"root_keys"`
}

// TrustError says what is wrong with a trust file or a key set. It says
// what, not what to do: the caller knows where the file came from and
// adds the remedy (the installer: get a fresh trust.json from the vendor).
type TrustError struct {
	// The reason as an English format and its arguments, so the
	// installer can show it in the customer's language.
	format string
	args   []any
	err    error // fmt.Errorf(format, args...): the English text, and what %w wrapped
	kind   error // a sentinel it is too (ErrSignature, ErrKeySetExpired), or nil
}

func (e *TrustError) Error() string { return e.err.Error() }

// LocalizeArgs gives the reason's English format and arguments (the
// installer's message catalog translates it).
func (e *TrustError) LocalizeArgs() (string, []any) { return e.format, e.args }

// Unwrap gives the sentinel and what the format's %w wrapped.
func (e *TrustError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	switch u := e.err.(type) {
	case interface{ Unwrap() []error }:
		errs = append(errs, u.Unwrap()...)
	case interface{ Unwrap() error }:
		errs = append(errs, u.Unwrap())
	}
	return errs
}

// refuse makes a TrustError, saying why a trust file or key set is
// refused; format is an English message, the key of its translations,
// and may wrap with %w as fmt.Errorf does.
func refuse(format string, args ...any) *TrustError {
	return &TrustError{format: format, args: args, err: fmt.Errorf(format, args...)}
}

// ParseTrust reads a trust file strictly.
func ParseTrust(data []byte) (*Trust, error) {
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err == nil && probe.Version == 1 {
		return nil, refuse("trust file version 1 (from an aktuald without root keys) is no longer read")
	}
	var t Trust
	if err := DecodeStrict(data, &t); err != nil {
		return nil, refuse("trust file is malformed: %w", err)
	}
	if t.Version != TrustVersion {
		return nil, refuse("trust file version %d is not supported (this aktual reads version %d)", t.Version, TrustVersion)
	}
	if t.RootVersion < 0 {
		return nil, refuse("trust file names root version %d; a root version is positive", t.RootVersion)
	}
	if len(t.RootKeys) == 0 {
		return nil, refuse("trust file names no root key")
	}
	for _, k := range t.RootKeys {
		if err := k.check(); err != nil {
			return nil, refuse("trust file: %w", err)
		}
	}
	return &t, nil
}

// Marshal returns the trust file's bytes.
func (t *Trust) Marshal() ([]byte, error) { return json.MarshalIndent(t, "", "  ") }

func (k PublicKey) check() error {
	if len(k.Ed25519) != ed25519.PublicKeySize || k.ID != KeyID(k.Ed25519) {
		return refuse("key %q is not a well-formed Ed25519 public key with its ID", k.ID)
	}
	return nil
}

// Active returns the key a role signs with now (the first listed).
func (ks *KeySet) Active(role string) PublicKey {
	if role == RoleOnline {
		return ks.OnlineKeys[0]
	}
	return ks.ReleaseKeys[0]
}

// Check reports whether the set is well formed: every role has a key, every
// key is well formed, and no key serves two roles. A root key listed as a
// release or online key is refused: the root signs key sets only, so an
// envelope it signed can never pass as a release or an answer.
func (ks *KeySet) Check(trust *Trust) error {
	if ks.Version < 1 {
		return refuse("key set version %d is not positive", ks.Version)
	}
	if len(ks.ReleaseKeys) == 0 || len(ks.OnlineKeys) == 0 {
		return refuse("key set names no release key or no online key")
	}
	seen := map[string]string{}
	for _, k := range trust.RootKeys {
		seen[k.ID] = RoleRoot
	}
	for role, keys := range map[string][]PublicKey{RoleRelease: ks.ReleaseKeys, RoleOnline: ks.OnlineKeys} {
		for _, k := range keys {
			if err := k.check(); err != nil {
				return err
			}
			if other, dup := seen[k.ID]; dup {
				return roleClash(k.ID, role, other)
			}
			seen[k.ID] = role
		}
	}
	return nil
}

// roleClash: key id is listed in role and other. Each pair has its own
// message, so that no role is named by its English word.
func roleClash(id, role, other string) *TrustError {
	switch {
	case other == RoleRoot && role == RoleRelease:
		return refuse("key %s is a root key and is listed as a release key too; each key has one role", id)
	case other == RoleRoot:
		return refuse("key %s is a root key and is listed as an online key too; each key has one role", id)
	}
	return refuse("key %s is listed as a release key and as an online key; each key has one role", id)
}

// VerifyKeySet checks that env is a key set signed by a root key of trust,
// well formed and not expired at now, and returns it.
func VerifyKeySet(env *Envelope, trust *Trust, now time.Time) (*KeySet, error) {
	var ks KeySet
	if err := env.VerifyInto(PayloadKeys, trust.RootKeys, &ks); err != nil {
		return nil, err
	}
	if err := ks.Check(trust); err != nil {
		e := refuse("the key set is not valid: %w", err)
		e.kind = ErrSignature
		return nil, e
	}
	if !now.Before(ks.ExpiresAt) {
		e := refuse("the key set expired at %s", ks.ExpiresAt.Format(time.RFC3339))
		e.kind = ErrKeySetExpired
		return nil, e
	}
	return &ks, nil
}

// ErrKeySetExpired is wrapped when a key set is past its expiry: the
// vendor must renew it (aktuald keys renew), or the clock is wrong.
var ErrKeySetExpired = errors.New("the key set expired")

// LatestResponse is the body of GET /v1/products/{product}/latest: the
// root-signed key set, and the answer signed by one of its online keys.
//
// Roots, only when the question named the root version the client trusts
// (QueryRoot) and the server's root is newer, are the links of the chain
// of root keys after that version, oldest first (FollowRoots).
type LatestResponse struct {
	Keys   Envelope   `json:"keys"`
	Answer Envelope   `json:"answer"`
	Roots  []Envelope `json:"roots,omitempty"`
}
