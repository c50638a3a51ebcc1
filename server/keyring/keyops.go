package keyring

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aktual/aktual/api"
)

// KeyInfo describes one key for `aktuald keys list`.
type KeyInfo struct {
	Role   string `json:"role"`
	ID     string `json:"id"`
	Status string `json:"status"` // active, retired, or (root) on-server / off-server
	// Public is the root key's public half in base64: what a vendor build
	// of aktual carries (-X …/cli.RootKeys=…) instead of a trust.json.
	Public string `json:"public,omitempty"`
}

// KeyList is the key set as staff see it.
type KeyList struct {
	KeySetVersion int64 `json:"keyset_version"`
	// RootVersion is the root's version in the chain of root keys: 1
	// until the root is first rotated. A vendor build of aktual carrying
	// the root keys carries it too (-X …/cli.RootVersion=N).
	RootVersion int64     `json:"root_version"`
	ExpiresAt   time.Time `json:"expires_at"`
	Keys        []KeyInfo `json:"keys"`
}

// List describes the keys.
func (k *Keys) List() KeyList {
	l := KeyList{KeySetVersion: k.KeySet.Version, RootVersion: k.Roots.Root(), ExpiresAt: k.KeySet.ExpiresAt}
	rootStatus := "off-server"
	if k.RootOnServer {
		rootStatus = "on-server"
	}
	for _, r := range k.Roots.RootKeys {
		l.Keys = append(l.Keys, KeyInfo{Role: api.RoleRoot, ID: r.ID, Status: rootStatus, Public: base64.StdEncoding.EncodeToString(r.Ed25519)})
	}
	for _, role := range []string{api.RoleRelease, api.RoleOnline} {
		keys := k.KeySet.ReleaseKeys
		if role == api.RoleOnline {
			keys = k.KeySet.OnlineKeys
		}
		for i, pk := range keys {
			status := "retired"
			if i == 0 {
				status = "active"
			}
			l.Keys = append(l.Keys, KeyInfo{Role: role, ID: pk.ID, Status: status})
		}
	}
	return l
}

// change writes a new key set: fn edits a copy of the current one, whose
// version then grows by one and whose lifetime starts anew, signed by root
// (nil: the root key in the data directory).
func (d Dir) change(root ed25519.PrivateKey, now time.Time, fn func(*api.KeySet) error) (*Keys, error) {
	unlock, err := d.lockKeys()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return d.changeLocked(root, now, fn)
}

// changeLocked is change with the keys lock held: the key set is read
// under the lock, so each change builds on the one before.
func (d Dir) changeLocked(root ed25519.PrivateKey, now time.Time, fn func(*api.KeySet) error) (*Keys, error) {
	k, err := d.load(root)
	if err != nil {
		return nil, err
	}
	if k.Root == nil {
		return nil, ErrNoRootKey
	}
	ks := *k.KeySet
	ks.ReleaseKeys = slices.Clone(ks.ReleaseKeys)
	ks.OnlineKeys = slices.Clone(ks.OnlineKeys)
	if err := fn(&ks); err != nil {
		return nil, err
	}
	ks.Version++
	ks.IssuedAt, ks.ExpiresAt = now, now.Add(KeySetTTL)
	if err := ks.Check(k.Roots); err != nil {
		return nil, err
	}
	env, err := signKeySet(&ks, k.Root)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(d.path(keySetFile), env, 0o600); err != nil {
		return nil, fmt.Errorf("writing the key set: %w", err)
	}
	secret, err := loadOrCreateSecret(d.path(codeSecretFile))
	if err != nil {
		return nil, err
	}
	if k, err = d.load(root); err != nil {
		return nil, err
	}
	k.CodeSecret = secret
	return k, nil
}

// RotateKey makes a new key the active one of role (release or online).
// The old one stays trusted, retired, so what it signed stays valid until
// it is revoked; its private half is deleted, as it signs nothing more.
func (d Dir) RotateKey(role string, root ed25519.PrivateKey) (*Keys, api.PublicKey, error) {
	if role != api.RoleRelease && role != api.RoleOnline {
		return nil, api.PublicKey{}, fmt.Errorf("--role must be release or online (the root key is rotated with RotateRoot)")
	}
	var (
		fresh    api.PublicKey
		freshKey string
		old      api.PublicKey
	)
	k, err := d.change(root, d.Now.UTC(), func(ks *api.KeySet) error {
		priv, path, err := d.newRoleKey(role)
		if err != nil {
			return err
		}
		fresh, freshKey = publicOf(priv), path
		list := &ks.ReleaseKeys
		if role == api.RoleOnline {
			list = &ks.OnlineKeys
		}
		old = (*list)[0]
		*list = append([]api.PublicKey{fresh}, *list...)
		return nil
	})
	if err != nil {
		if freshKey != "" {
			os.Remove(freshKey)
		}
		return nil, api.PublicKey{}, err
	}
	if err := os.Remove(d.path(keyFile(role, old.ID))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		k.Warnings = append(k.Warnings, fmt.Sprintf("could not delete the retired %s key's private file: %v", role, err))
	}
	return k, fresh, nil
}

// RevokeKey removes a retired key from the key set: clients stop trusting
// it as soon as they see the new set. The active key of a role cannot be
// revoked: rotate first.
func (d Dir) RevokeKey(id string, root ed25519.PrivateKey) (*Keys, string, error) {
	var role string
	k, err := d.change(root, d.Now.UTC(), func(ks *api.KeySet) error {
		for _, r := range []struct {
			name string
			list *[]api.PublicKey
		}{{api.RoleRelease, &ks.ReleaseKeys}, {api.RoleOnline, &ks.OnlineKeys}} {
			i := slices.IndexFunc(*r.list, func(p api.PublicKey) bool { return p.ID == id })
			if i < 0 {
				continue
			}
			if i == 0 {
				return fmt.Errorf("%s is the active %s key: rotate it first (aktuald keys rotate --role %s), then revoke it", id, r.name, r.name)
			}
			role = r.name
			*r.list = slices.Delete(*r.list, i, i+1)
			return nil
		}
		return fmt.Errorf("no release or online key has the ID %q; see aktuald keys list", id)
	})
	if err != nil {
		return nil, "", err
	}
	os.Remove(d.path(keyFile(role, id)))
	return k, role, nil
}

// RenewKeySet signs the same keys anew with a fresh expiry.
func (d Dir) RenewKeySet(root ed25519.PrivateKey) (*Keys, error) {
	return d.change(root, d.Now.UTC(), func(*api.KeySet) error { return nil })
}

// ExportRoot moves the root key out of the data directory into a new file
// (to keep offline); afterwards key changes need --root-key FILE.
func (d Dir) ExportRoot(out string) (api.PublicKey, error) {
	src := d.path(rootKeyPEM)
	root, err := ReadKeyFile(src)
	if errors.Is(err, fs.ErrNotExist) {
		return api.PublicKey{}, ErrNoRootKey
	} else if err != nil {
		return api.PublicKey{}, err
	}
	if err := writeKeyOut(out, root); errors.Is(err, fs.ErrExist) {
		return api.PublicKey{}, fmt.Errorf("%s exists already; choose a new file for the root key", out)
	} else if err != nil {
		return api.PublicKey{}, err
	}
	if back, err := ReadKeyFile(out); err != nil || !back.Equal(root) {
		return api.PublicKey{}, fmt.Errorf("the root key written to %s does not read back (%v); it was left in the data folder", out, err)
	}
	if err := os.Remove(src); err != nil {
		return api.PublicKey{}, fmt.Errorf("the root key is in %s, but could not be removed from the data folder: %w", out, err)
	}
	return publicOf(root), nil
}

// GenerateRootKey writes a new root key to a new file: for a vendor who
// makes the root key offline before the first `aktuald init --root-key`.
func GenerateRootKey(out string) (api.PublicKey, error) {
	priv, err := generateKey()
	if err != nil {
		return api.PublicKey{}, err
	}
	err = writeKeyOut(out, priv)
	if errors.Is(err, fs.ErrExist) {
		return api.PublicKey{}, fmt.Errorf("%s exists already; choose a new file for the root key", out)
	} else if err != nil {
		return api.PublicKey{}, err
	}
	return publicOf(priv), nil
}

// writeKeyOut writes a key to a new file outside the data folder, e.g. on
// removable media: created exclusively (no hard links, which FAT lacks),
// and flushed with its folder before the caller removes another copy.
func writeKeyOut(path string, priv ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // not supported everywhere (Windows); the file itself is synced
		d.Close()
	}
	return nil
}
