package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func loadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	priv, err := ReadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := newKeyFile(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return ReadKeyFile(path) // read back what won the race, if any
	}
	return priv, err
}

// newKeyFile creates a key file holding a new Ed25519 key; fs.ErrExist when
// one is there already.
func newKeyFile(path string) (ed25519.PrivateKey, error) {
	priv, err := generateKey()
	if err != nil {
		return nil, err
	}
	if err := writePrivateKey(path, priv); err != nil {
		return nil, err
	}
	return priv, nil
}

func generateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return priv, err
}

// writePrivateKey writes a new key file (PKCS#8 PEM, owner only); it never
// replaces one: fs.ErrExist.
func writePrivateKey(path string, priv ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	return createExclusive(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// ReadKeyFile reads an Ed25519 private key in PKCS#8 PEM.
func ReadKeyFile(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key file %s is not a PEM private key", filepath.Base(path))
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", filepath.Base(path), err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key file %s does not hold an Ed25519 key", filepath.Base(path))
	}
	return priv, nil
}

const secretSize = 32

func loadOrCreateSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret := make([]byte, secretSize)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		if err := createExclusive(path, secret); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return loadOrCreateSecret(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading code secret: %w", err)
	}
	if len(data) != secretSize {
		return nil, fmt.Errorf("code secret %s has %d bytes, expected %d", filepath.Base(path), len(data), secretSize)
	}
	return data, nil
}

// createExclusive writes a new secret file, complete or not at all; if
// another process created it first, that one is kept and the answer wraps
// fs.ErrExist.
func createExclusive(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), data, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Base(path), err)
	}
	return nil
}

func writeTemp(dir string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, perm)
	}
	if werr != nil {
		os.Remove(name)
		return "", werr
	}
	return name, nil
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(filepath.Dir(path), data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
