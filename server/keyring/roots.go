package keyring

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aktual/aktual/api"
)

// The chain of root keys is kept in keys/roots/: N.json is root statement N
// (api.RootStatement) as it is served. 1.json, written at the first
// rotation, is the original root signed by itself: the chain's start, from
// which loading the folder verifies every link. A folder whose root was
// never rotated has no roots/ folder; its root is version 1.
const (
	rootsDir    = "roots"
	rootNextPEM = "root-next.pem" // a new root on the server, until the key set is signed by it
)

func (d Dir) rootLinkPath(version int64) string {
	return filepath.Join(d.Keys, rootsDir, strconv.FormatInt(version, 10)+".json")
}

// RootsAfter are the links of the chain of root keys after version v, for
// an answer to a client that trusts root v: none when v is not a version
// before this server's root.
func (k *Keys) RootsAfter(v int64) []api.Envelope {
	cur := k.Roots.Root()
	if v < 1 || v >= cur {
		return nil
	}
	return k.Chain[v-1:] // Chain[0] is statement 2
}

// readChain reads and verifies keys/roots/: the statements in version
// order (statement 1 first) and the trust each leads to. An empty folder,
// or none, is no chain.
func (d Dir) readChain() ([]api.Envelope, []*api.Trust, error) {
	entries, err := os.ReadDir(filepath.Join(d.Keys, rootsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("reading the chain of root keys: %w", err)
	}
	n := int64(0)
	for _, e := range entries {
		if v, err := strconv.ParseInt(strings.TrimSuffix(e.Name(), ".json"), 10, 64); err == nil && strings.HasSuffix(e.Name(), ".json") {
			n = max(n, v)
		}
	}
	if n > api.MaxRootLinks+1 {
		return nil, nil, fmt.Errorf("the chain of root keys has %d statements, more than clients follow (%d)", n, api.MaxRootLinks+1)
	}
	links := make([]api.Envelope, n)
	trusts := make([]*api.Trust, n)
	for i := range links {
		data, err := readBoundedFile(d.rootLinkPath(int64(i+1)), api.MaxEnvelopeSize*2)
		if err != nil {
			return nil, nil, fmt.Errorf("the chain of root keys: %w", err)
		}
		if err := api.DecodeStrict(data, &links[i]); err != nil {
			return nil, nil, fmt.Errorf("root statement %d is damaged: %w", i+1, err)
		}
		if i == 0 {
			trusts[0], err = api.OriginalRoot(&links[0])
		} else {
			trusts[i], err = api.FollowRoots(trusts[i-1], links[i:i+1])
		}
		if err != nil {
			return nil, nil, fmt.Errorf("root statement %d does not verify: %w", i+1, err)
		}
	}
	return links, trusts, nil
}

// loadChained sets k's trust from the chain: the newest root whose keys
// sign the key set. Links after it are a rotation cut short before it
// signed the key set: not served, and replaced by the next rotation.
// trust.json is rewritten from the chain if it differs (it is public).
func (d Dir) loadChained(k *Keys, links []api.Envelope, trusts []*api.Trust) error {
	for i := len(trusts) - 1; i >= 0; i-- {
		ks, err := verifyStoredKeySet(&k.KeySetEnvelope, trusts[i])
		if err != nil {
			continue
		}
		k.Roots, k.KeySet, k.Chain = trusts[i], ks, links[1:i+1]
		return d.writeTrust(trusts[i])
	}
	return fmt.Errorf("the key set %s is signed by no root of the chain of root keys in %s: restore keys/ from a backup",
		d.path(keySetFile), filepath.Join(d.Keys, rootsDir))
}

// rootOnDisk reads keys/root.pem (nil when there is none), first
// finishing a root rotation that was cut after the key set was signed by
// the new root: a new root kept on the server takes the old one's file;
// the old root's file, when the new root is kept elsewhere, is removed.
func (d Dir) rootOnDisk(trust *api.Trust, trusts []*api.Trust) (ed25519.PrivateKey, error) {
	root, err := ReadKeyFile(d.path(rootKeyPEM))
	if errors.Is(err, fs.ErrNotExist) {
		root, err = nil, nil
	}
	if err != nil || len(trusts) == 0 || (root != nil && hasKey(trust.RootKeys, publicOf(root).ID)) {
		return root, err
	}
	if next, err := ReadKeyFile(d.path(rootNextPEM)); err == nil && hasKey(trust.RootKeys, publicOf(next).ID) {
		if err := os.Rename(d.path(rootNextPEM), d.path(rootKeyPEM)); err != nil {
			return nil, fmt.Errorf("finishing the rotation of the root key: %w", err)
		}
		return next, nil
	}
	if root != nil && formerRoot(trusts, publicOf(root).ID) {
		if err := os.Remove(d.path(rootKeyPEM)); err != nil {
			return nil, fmt.Errorf("removing the former root key: %w", err)
		}
		return nil, nil
	}
	return root, nil
}

func formerRoot(trusts []*api.Trust, id string) bool {
	for _, t := range trusts[:len(trusts)-1] {
		if hasKey(t.RootKeys, id) {
			return true
		}
	}
	return false
}

// RotateRoot hands the vendor's root over to a new key: root statement
// N+1, signed by the current root (root, or the one in the data folder)
// and by the new one, joins the chain in keys/roots/; the key set is
// signed anew by the new root, and trust.json names it. newRoot is a root
// kept off the server (aktuald keys generate-root); nil makes a new one in
// the data folder, which only a server that keeps its root there may do.
// Installers that trust an older root follow the chain to the new one.
func (d Dir) RotateRoot(root, newRoot ed25519.PrivateKey) (*Keys, api.PublicKey, error) {
	unlock, err := d.lockKeys()
	if err != nil {
		return nil, api.PublicKey{}, err
	}
	defer unlock()
	k, err := d.load(root)
	if err != nil {
		return nil, api.PublicKey{}, err
	}
	if k.Root == nil {
		return nil, api.PublicKey{}, ErrNoRootKey
	}
	onServer := newRoot == nil
	if onServer && !k.RootOnServer {
		return nil, api.PublicKey{}, errors.New("the root key is kept off the server, so the new one must be too: make it with aktuald keys generate-root --out FILE and pass it with --new-root-key FILE")
	}
	if onServer {
		if newRoot, err = d.newRootOnServer(); err != nil {
			return nil, api.PublicKey{}, err
		}
	}
	fresh := publicOf(newRoot)
	if hasKey(k.Roots.RootKeys, fresh.ID) || hasKey(k.KeySet.ReleaseKeys, fresh.ID) || hasKey(k.KeySet.OnlineKeys, fresh.ID) {
		return nil, api.PublicKey{}, fmt.Errorf("the new root key %s is already a key of this server; make a new one with aktuald keys generate-root --out FILE", fresh.ID)
	}
	if err := d.writeRootLinks(k, newRoot); err != nil {
		return nil, api.PublicKey{}, err
	}
	if err := d.resignKeySet(k, newRoot); err != nil {
		return nil, api.PublicKey{}, err
	}
	if err := d.finishRootFiles(k, onServer); err != nil {
		return nil, api.PublicKey{}, err
	}
	given := newRoot
	if onServer {
		given = nil
	}
	if k, err = d.load(given); err != nil {
		return nil, api.PublicKey{}, err
	}
	if k.CodeSecret, err = loadOrCreateSecret(d.path(codeSecretFile)); err != nil {
		return nil, api.PublicKey{}, err
	}
	return k, fresh, nil
}

// newRootOnServer makes the new root in keys/root-next.pem: kept before
// anything trusts it, so a rotation cut short never loses the root.
func (d Dir) newRootOnServer() (ed25519.PrivateKey, error) {
	// A root-next.pem left by a rotation cut before it signed the key set
	// is trusted by nothing (its link is never served): start afresh.
	if err := os.Remove(d.path(rootNextPEM)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return newKeyFile(d.path(rootNextPEM))
}

// writeRootLinks writes statement 1 (at the first rotation) and the link
// from k's root to newRoot, replacing one a cut rotation left.
func (d Dir) writeRootLinks(k *Keys, newRoot ed25519.PrivateKey) error {
	if err := os.MkdirAll(filepath.Join(d.Keys, rootsDir), 0o700); err != nil {
		return fmt.Errorf("creating the folder of the chain of root keys: %w", err)
	}
	now := d.Now.UTC()
	cur := k.Roots.Root()
	if cur == 1 {
		if err := d.writeRootLink(api.RootStatement{Version: 1, RootKeys: k.Roots.RootKeys, IssuedAt: now}, k.Root); err != nil {
			return err
		}
	}
	return d.writeRootLink(api.RootStatement{Version: cur + 1, RootKeys: []api.PublicKey{publicOf(newRoot)}, IssuedAt: now}, k.Root, newRoot)
}

func (d Dir) writeRootLink(st api.RootStatement, keys ...ed25519.PrivateKey) error {
	payload, err := json.Marshal(st)
	if err != nil {
		return err
	}
	env := api.Envelope{PayloadType: api.PayloadRoot, Payload: payload}
	for _, key := range keys {
		env.AddSignature(key)
	}
	data, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(d.rootLinkPath(st.Version), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing root statement %d: %w", st.Version, err)
	}
	return nil
}

// resignKeySet signs k's key set anew, one version on and with a fresh
// lifetime, by the new root: from here the new root is the server's.
func (d Dir) resignKeySet(k *Keys, newRoot ed25519.PrivateKey) error {
	ks := *k.KeySet
	ks.Version++
	now := d.Now.UTC()
	ks.IssuedAt, ks.ExpiresAt = now, now.Add(KeySetTTL)
	next := api.NewTrust(k.Roots.Root()+1, []api.PublicKey{publicOf(newRoot)})
	if err := ks.Check(next); err != nil {
		return err
	}
	env, err := signKeySet(&ks, newRoot)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(d.path(keySetFile), env, 0o600); err != nil {
		return fmt.Errorf("writing the key set: %w", err)
	}
	return d.writeTrust(next)
}

// finishRootFiles puts a new root kept on the server in root.pem, or
// removes the old root's file when the new root is kept elsewhere.
func (d Dir) finishRootFiles(k *Keys, onServer bool) error {
	switch {
	case onServer:
		if err := os.Rename(d.path(rootNextPEM), d.path(rootKeyPEM)); err != nil {
			return fmt.Errorf("keeping the new root key: %w", err)
		}
	case k.RootOnServer:
		if err := os.Remove(d.path(rootKeyPEM)); err != nil {
			return fmt.Errorf("removing the former root key from the data folder: %w", err)
		}
	}
	return nil
}
