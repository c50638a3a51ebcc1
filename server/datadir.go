package server

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

	"github.com/aktual/aktual/api"
)

// Layout of a server data directory. The first `aktuald serve` (or any
// command that needs it) creates it.
const (
	DBFile        = "aktuald.db"
	TrustFile     = "trust.json"
	keysDir       = "keys"
	releaseKeyPEM = "release.pem"
	onlineKeyPEM  = "online.pem"
	codeSecret    = "code-secret"
	blobsDir      = "blobs"
)

// Keys are the server's secrets: the release key signs releases at publish
// time, the online key signs "latest" answers, the code secret keys the
// hashes under which update codes are stored.
type Keys struct {
	Release    ed25519.PrivateKey
	Online     ed25519.PrivateKey
	CodeSecret []byte
}

// Trust returns the public half a client needs.
func (k *Keys) Trust() *api.Trust {
	return &api.Trust{
		Version:     1,
		ReleaseKeys: []api.PublicKey{api.NewPublicKey(k.Release.Public().(ed25519.PublicKey))},
		OnlineKeys:  []api.PublicKey{api.NewPublicKey(k.Online.Public().(ed25519.PublicKey))},
	}
}

// DataDir is a server data directory.
type DataDir string

// Path joins elem under the data directory.
func (d DataDir) Path(elem ...string) string {
	return filepath.Join(append([]string{string(d)}, elem...)...)
}

// BlobDir is where artifacts are kept, by sha256.
func (d DataDir) BlobDir() string { return d.Path(blobsDir) }

// Init makes sure the directory holds keys, a blob folder and trust.json,
// creating what is missing (never replacing an existing key), and returns
// the keys.
func (d DataDir) Init() (*Keys, error) {
	for _, dir := range []string{string(d), d.Path(keysDir), d.BlobDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
	}
	var k Keys
	var err error
	if k.Release, err = loadOrCreateKey(d.Path(keysDir, releaseKeyPEM)); err != nil {
		return nil, err
	}
	if k.Online, err = loadOrCreateKey(d.Path(keysDir, onlineKeyPEM)); err != nil {
		return nil, err
	}
	if k.CodeSecret, err = loadOrCreateSecret(d.Path(keysDir, codeSecret)); err != nil {
		return nil, err
	}
	trust, err := k.Trust().Marshal()
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(d.Path(TrustFile), append(trust, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("writing trust file: %w", err)
	}
	return &k, nil
}

func loadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, err
		}
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := createExclusive(path, pemBytes); err != nil {
			return nil, err
		}
		return loadOrCreateKey(path) // read back what won the race, if any
	}
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
		if err := createExclusive(path, secret); err != nil {
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

// createExclusive writes a new secret file; if another process created it
// first, that one wins and is kept.
func createExclusive(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), data, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
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
