package journal

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/durable"
)

// The manifests of installed folders are kept in the state directory by
// their sha256, and beside each folder's install record an index of its
// files as installed (size and modification time), so that an update
// hashes only the files that changed since.

// ManifestPath is the kept manifest with this sha256.
func (s Store) ManifestPath(sha string) string {
	return filepath.Join(s.StateDir, "manifests", sha+".json")
}

// SaveManifest keeps a folder's manifest (the signed bytes). It is a
// cache, checked against its name when read: a power cut that loses it
// only makes the next update leave the files it drops in place.
func (s Store) SaveManifest(sha string, data []byte) error {
	return durable.WriteCache(s.ManifestPath(sha), data)
}

// LoadManifest reads and checks a kept manifest: (nil, nil) when there is
// none.
func (s Store) LoadManifest(sha string) (*api.Manifest, error) {
	data, err := durable.ReadFile(s.ManifestPath(sha), api.MaxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if got := api.SHA256Hex(data); got != sha {
		return nil, nil // damaged: as good as none; the files are hashed instead
	}
	// The bytes are the ones checked (DecodeManifest) when they were
	// fetched: their hash says so. Read them without checking again.
	var m api.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	// The paths again, cheaply: the state folder is only as safe as its
	// permissions, and uninstall removes what the manifest names.
	for _, f := range m.Files {
		if err := api.CheckPath(f.Path); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// RemoveManifest drops a kept manifest no record names any more.
func (s Store) RemoveManifest(sha string) { os.Remove(s.ManifestPath(sha)) }

// IndexEntry is one installed file as it was left: what an update
// compares to tell, without reading it, that the file is unchanged.
type IndexEntry struct {
	Path    string `json:"path"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
}

// Index is the files of an installed folder as installed.
type Index struct {
	Manifest string       `json:"manifest"`
	Files    []IndexEntry `json:"files"`
}

func (s Store) indexPath(target string) string {
	return filepath.Join(s.InstallsDir(), targetKey(target)+".index")
}

// SaveIndex writes a folder's index.
func (s Store) SaveIndex(target string, idx Index) error {
	data, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return durable.WriteCache(s.indexPath(target), data) // checked against each file's stat when used
}

// LoadIndex reads a folder's index; an empty one when there is none or it
// cannot be read (every file is then hashed).
func (s Store) LoadIndex(target string) Index {
	data, err := durable.ReadFile(s.indexPath(target), api.MaxManifestSize)
	var idx Index
	if err != nil || json.Unmarshal(data, &idx) != nil {
		return Index{}
	}
	return idx
}

// RemoveIndex drops a folder's index.
func (s Store) RemoveIndex(target string) { os.Remove(s.indexPath(target)) }

// RemoveInstallRecord drops a target's install record.
func (s Store) RemoveInstallRecord(target string) error {
	err := os.Remove(s.RecordPath(target))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
