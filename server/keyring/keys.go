// Package keyring owns the server's keys on disk: the root-signed key set,
// the release and online keys, the code secret and trust.json, and their
// rotation, revocation and renewal.
package keyring

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/clock"
)

// Files of the keys folder.
const (
	rootKeyPEM     = "root.pem"
	keySetFile     = "keyset.json"
	codeSecretFile = "code-secret"
)

// Key-set lifetimes. A key set that expired locks every client out, so a
// server that holds the root key renews it well before; one whose root key
// lives elsewhere warns.
const (
	KeySetTTL        = 365 * 24 * time.Hour
	KeySetRenewAhead = 30 * 24 * time.Hour
)

// ErrNoRootKey: an operation needs the root key, which is not on this
// server; staff pass it (aktuald keys … --root-key FILE).
var ErrNoRootKey = errors.New("the root key is not on this server")

// Keys are the server's secrets and the public key set. The release key
// signs releases at publish time, the online key signs "latest" answers,
// the code secret keys the hashes under which update codes are stored. The
// root key, when it is kept on the server at all, only signs key sets.
type Keys struct {
	Release    ed25519.PrivateKey // the key set's active release key
	Online     ed25519.PrivateKey // the key set's active online key
	CodeSecret []byte
	Root       ed25519.PrivateKey // nil when the root key lives off the server and was not given
	// RootOnServer: the root key is kept in the data directory.
	RootOnServer bool
	Roots        *api.Trust // what trust.json holds: the root public keys
	KeySet       *api.KeySet
	// KeySetEnvelope is the root-signed key set exactly as stored and served.
	KeySetEnvelope api.Envelope
	// Chain is the chain of root keys from the original root to Roots:
	// root statements 2 … Roots.Root() (RootsAfter). Empty for a root
	// never rotated.
	Chain []api.Envelope
	// Warnings are for staff: a key set about to expire with no root key
	// here to renew it.
	Warnings []string
}

// Trust returns what a client needs: the root public keys.
func (k *Keys) Trust() *api.Trust { return k.Roots }

func keyFile(role, id string) string { return role + "-" + id + ".pem" }

// Dir is the key ring on disk: the keys folder (private keys, the signed
// key set, the code secret) and trust.json beside it.
type Dir struct {
	Keys  string // the keys folder
	Trust string // trust.json, what customers are given
	// Now dates new and renewed key sets; nil: the wall clock.
	Now clock.Func
}

func (d Dir) path(name string) string { return filepath.Join(d.Keys, name) }

// Init makes sure the folder holds keys and trust.json, creating what is
// missing (never replacing an existing key), and returns the keys. A new
// key ring gets a root key of its own unless staff give one kept
// elsewhere (root): that one signs the first key set (or renews an
// expiring one) and is not stored.
func (d Dir) Init(root ed25519.PrivateKey) (*Keys, error) { return d.init(root, d.Now.UTC()) }

func (d Dir) init(root ed25519.PrivateKey, now time.Time) (*Keys, error) {
	if err := os.MkdirAll(d.Keys, 0o700); err != nil {
		return nil, fmt.Errorf("creating the keys folder: %w", err)
	}
	secret, err := loadOrCreateSecret(d.path(codeSecretFile))
	if err != nil {
		return nil, err
	}
	unlock, err := d.lockKeys()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(d.path(keySetFile)); errors.Is(err, fs.ErrNotExist) {
		if err := d.create(root, now); err != nil {
			return nil, err
		}
	}
	k, err := d.load(root)
	if err != nil {
		return nil, err
	}
	k.CodeSecret = secret
	if k.KeySet.ExpiresAt.Sub(now) < KeySetRenewAhead {
		if k.Root != nil {
			if k, err = d.changeLocked(k.Root, now, func(*api.KeySet) error { return nil }); err != nil {
				return nil, err
			}
			k.CodeSecret = secret
		} else {
			k.Warnings = append(k.Warnings, fmt.Sprintf(
				"the key set expires at %s: renew it with: aktuald keys renew --root-key FILE (clients refuse an expired one)",
				k.KeySet.ExpiresAt.Format(time.RFC3339)))
		}
	}
	return k, nil
}

// create makes a new data directory's keys: the root (unless given), a
// release and an online key, the first key set and trust.json. Of two
// processes creating at once, the first key set written wins.
func (d Dir) create(root ed25519.PrivateKey, now time.Time) error {
	if root == nil {
		// A trust.json without the key set is a damaged data folder, not
		// a new one: a new root here would lock every client out.
		if _, err := os.Stat(d.Trust); err == nil {
			if _, err := os.Stat(d.path(rootKeyPEM)); errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s is missing while %s exists: restore keys/ from a backup, or pass the vendor's root key with --root-key FILE to sign a new key set",
					d.path(keySetFile), d.Trust)
			}
		}
		var err error
		if root, err = loadOrCreateKey(d.path(rootKeyPEM)); err != nil {
			return err
		}
	}
	version := int64(1)
	if old, err := d.readTrust(); err == nil {
		if !hasKey(old.RootKeys, publicOf(root).ID) {
			return fmt.Errorf("%s names root key %s, not %s: pass the vendor's root key with --root-key FILE", d.Trust, old.RootKeys[0].ID, publicOf(root).ID)
		}
		// A key set made anew for an existing vendor must be newer than
		// any clients have seen: the clock's seconds outgrow any count of
		// changes.
		version = now.Unix()
	}
	release, relPath, err := d.newRoleKey(api.RoleRelease)
	if err != nil {
		return err
	}
	online, onPath, err := d.newRoleKey(api.RoleOnline)
	if err != nil {
		return err
	}
	ks := api.KeySet{
		Version: version, IssuedAt: now, ExpiresAt: now.Add(KeySetTTL),
		ReleaseKeys: []api.PublicKey{publicOf(release)},
		OnlineKeys:  []api.PublicKey{publicOf(online)},
	}
	env, err := signKeySet(&ks, root)
	if err != nil {
		return err
	}
	if err := d.writeTrust(api.NewTrust(1, []api.PublicKey{publicOf(root)})); err != nil {
		return err
	}
	if err := createExclusive(d.path(keySetFile), env); errors.Is(err, fs.ErrExist) {
		// Another process initialised the directory first: its keys win.
		os.Remove(relPath)
		os.Remove(onPath)
		return nil
	} else if err != nil {
		return err
	}
	return nil
}

func (d Dir) newRoleKey(role string) (ed25519.PrivateKey, string, error) {
	for {
		priv, err := generateKey()
		if err != nil {
			return nil, "", err
		}
		path := d.path(keyFile(role, api.KeyID(priv.Public().(ed25519.PublicKey))))
		if err := writePrivateKey(path, priv); errors.Is(err, fs.ErrExist) {
			continue // an ID clash: astronomically unlikely, but never overwrite a key
		} else if err != nil {
			return nil, "", err
		}
		return priv, path, nil
	}
}

// load reads the key set, checks it against the chain of root keys, or
// without one against trust.json (rewriting a lost or damaged trust.json
// from the chain, or from the root key when there is one), and reads the
// active private keys.
func (d Dir) load(root ed25519.PrivateKey) (*Keys, error) {
	k := &Keys{}
	data, err := os.ReadFile(d.path(keySetFile))
	if err != nil {
		return nil, fmt.Errorf("reading the key set: %w", err)
	}
	if err := json.Unmarshal(data, &k.KeySetEnvelope); err != nil {
		return nil, fmt.Errorf("the key set %s is damaged: %w", d.path(keySetFile), err)
	}
	links, trusts, err := d.readChain()
	if err != nil {
		return nil, fmt.Errorf("%w: restore keys/ from a backup", err)
	}
	if len(trusts) > 0 {
		if err := d.loadChained(k, links, trusts); err != nil {
			return nil, err
		}
	}
	if root == nil {
		priv, err := d.rootOnDisk(k.Roots, trusts)
		if err != nil {
			return nil, err
		}
		root, k.RootOnServer = priv, priv != nil
	}
	k.Root = root
	if len(trusts) == 0 {
		if err := d.loadUnchained(k, root); err != nil {
			return nil, err
		}
	}
	if root != nil && !hasKey(k.Roots.RootKeys, publicOf(root).ID) {
		return nil, fmt.Errorf("the root key given (%s) is not this server's root key (trust.json names %s)", publicOf(root).ID, k.Roots.RootKeys[0].ID)
	}
	if k.Release, err = d.activeKey(k.KeySet, api.RoleRelease); err != nil {
		return nil, err
	}
	if k.Online, err = d.activeKey(k.KeySet, api.RoleOnline); err != nil {
		return nil, err
	}
	return k, nil
}

// loadUnchained sets k's trust from trust.json, for a root never rotated.
func (d Dir) loadUnchained(k *Keys, root ed25519.PrivateKey) error {
	trust, terr := d.readTrust()
	var ks *api.KeySet
	if terr == nil {
		ks, terr = verifyStoredKeySet(&k.KeySetEnvelope, trust)
	}
	if terr != nil {
		if root == nil {
			return fmt.Errorf("%s does not verify the key set (%v), and the root key is not here to rebuild it: restore trust.json, or run again with --root-key FILE", d.Trust, terr)
		}
		trust = api.NewTrust(1, []api.PublicKey{publicOf(root)})
		var err error
		if ks, err = verifyStoredKeySet(&k.KeySetEnvelope, trust); err != nil {
			return fmt.Errorf("the key set in %s is not signed by this root key: %w", d.path(keySetFile), err)
		}
		if err := d.writeTrust(trust); err != nil {
			return err
		}
	}
	k.Roots, k.KeySet = trust, ks
	return nil
}

// verifyStoredKeySet checks the signature and form, not the expiry: an
// expired set is renewed, not refused, by its own server.
func verifyStoredKeySet(env *api.Envelope, trust *api.Trust) (*api.KeySet, error) {
	var ks api.KeySet
	if err := env.VerifyInto(api.PayloadKeys, trust.RootKeys, &ks); err != nil {
		return nil, err
	}
	if err := ks.Check(trust); err != nil {
		return nil, err
	}
	return &ks, nil
}

func (d Dir) activeKey(ks *api.KeySet, role string) (ed25519.PrivateKey, error) {
	pub := ks.Active(role)
	priv, err := ReadKeyFile(d.path(keyFile(role, pub.ID)))
	if err != nil {
		return nil, fmt.Errorf("the active %s key %s: %w", role, pub.ID, err)
	}
	if publicOf(priv).ID != pub.ID {
		return nil, fmt.Errorf("the %s key file for %s holds another key", role, pub.ID)
	}
	return priv, nil
}

func (d Dir) readTrust() (*api.Trust, error) {
	data, err := readBoundedFile(d.Trust, 64<<10)
	if err != nil {
		return nil, err
	}
	return api.ParseTrust(data)
}

func (d Dir) writeTrust(t *api.Trust) error {
	data, err := t.Marshal()
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if old, err := os.ReadFile(d.Trust); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := writeFileAtomic(d.Trust, data, 0o600); err != nil {
		return fmt.Errorf("writing trust file: %w", err)
	}
	return nil
}

func readBoundedFile(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return os.ReadFile(path)
}

func signKeySet(ks *api.KeySet, root ed25519.PrivateKey) ([]byte, error) {
	payload, err := json.Marshal(ks)
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(api.Sign(api.PayloadKeys, payload, root), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func publicOf(priv ed25519.PrivateKey) api.PublicKey {
	return api.NewPublicKey(priv.Public().(ed25519.PublicKey))
}

func hasKey(keys []api.PublicKey, id string) bool {
	for _, k := range keys {
		if k.ID == id {
			return true
		}
	}
	return false
}

// KeySetPath is the signed key set's file: a key ring without one is new.
func (d Dir) KeySetPath() string { return d.path(keySetFile) }

// CodeHash is the keyed hash under which an update code is stored: the
// database never holds a code.
func CodeHash(secret []byte, code api.UpdateCode) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("aktual-update-code-v1\x00"))
	m.Write([]byte(code))
	return m.Sum(nil)
}
