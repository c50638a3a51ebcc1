// Package durable writes the installer's small files whole or not at all
// and durable once written, reads them bounded, and syncs a folder after
// a rename.
package durable

import (
	"os"
	"path/filepath"

	"github.com/aktual/aktual/internal/i18n"
)

// ReadFile reads the file at path, refusing one larger than limit bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, i18n.Errorf("%s is larger than %d bytes", filepath.Base(path), limit)
	}
	return os.ReadFile(path)
}

// WriteFile makes data appear at path whole or not at all, and durable
// once it returns.
func WriteFile(path string, data []byte) error { return write(path, data, true) }

// WriteCache makes data appear at path whole or not at all, without
// waiting for the disk: for a cache that is checked when read, which a
// power cut may take back to its last version or lose.
func WriteCache(path string, data []byte) error { return write(path, data, false) }

func write(path string, data []byte, sync bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if !sync {
		return nil
	}
	return SyncDir(dir)
}
