// Package datadir owns a server data folder: its layout, its permissions,
// the locks that keep commands apart, and opening it (keys, blobs and the
// store it names) as an Instance. It is the only importer of both stores.
package datadir

import (
	"path/filepath"

	"github.com/aktual/aktual/server/keyring"
)

// Layout of a server data directory. The first `aktuald serve` (or any
// command that needs it) creates it.
const (
	DBFile    = "aktuald.db"
	TrustFile = "trust.json"
	keysDir   = "keys"
	blobsDir  = "blobs"
)

// DataDir is a server data directory.
type DataDir string

// Path joins elem under the data directory.
func (d DataDir) Path(elem ...string) string {
	return filepath.Join(append([]string{string(d)}, elem...)...)
}

// BlobDir is where artifacts are kept, by sha256.
func (d DataDir) BlobDir() string { return d.Path(blobsDir) }

// Keyring is the data directory's key ring: keys/ and trust.json.
func (d DataDir) Keyring() keyring.Dir {
	return keyring.Dir{Keys: d.Path(keysDir), Trust: d.Path(TrustFile)}
}
