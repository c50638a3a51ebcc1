// Package blobs owns the artifacts: the content-addressed folder that
// stores and serves them, and the fetching of those kept at an external
// origin or CDN.
package blobs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Blobs is a content-addressed folder of artifacts: blobs/ab/abcdef…
type Blobs struct{ Dir string }

// ValidSHA256 reports whether s is a lowercase hex sha256.
func ValidSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (b Blobs) path(sum string) string { return filepath.Join(b.Dir, sum[:2], sum) }

// Put stores r and returns its sha256 and size. The blob appears under its
// name only when fully written and synced.
func (b Blobs) Put(r io.Reader) (sum string, size int64, err error) {
	tmp, err := os.CreateTemp(b.Dir, ".incoming-*")
	if err != nil {
		return "", 0, fmt.Errorf("storing artifact: %w", err)
	}
	defer func() {
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return "", 0, fmt.Errorf("storing artifact: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return "", 0, err
	}
	if err = tmp.Close(); err != nil {
		return "", 0, err
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if err = os.MkdirAll(filepath.Dir(b.path(sum)), 0o700); err != nil {
		return "", 0, err
	}
	if err = os.Rename(tmp.Name(), b.path(sum)); err != nil {
		return "", 0, err
	}
	return sum, size, nil
}

// Has reports whether the blob with this sha256 is stored.
func (b Blobs) Has(sum string) bool {
	if !ValidSHA256(sum) {
		return false
	}
	_, err := os.Stat(b.path(sum))
	return err == nil
}

// Open opens the blob with this sha256.
func (b Blobs) Open(sum string) (*os.File, error) {
	if !ValidSHA256(sum) {
		return nil, os.ErrNotExist
	}
	return os.Open(b.path(sum))
}

// Remove deletes a blob (a file stored for a publish that was refused).
func (b Blobs) Remove(sum string) error {
	if !ValidSHA256(sum) {
		return os.ErrNotExist
	}
	return os.Remove(b.path(sum))
}
