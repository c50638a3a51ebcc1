package journal

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/kind"
)

// seenFileName holds what this client has seen of each vendor (by root key):
// the newest key set version and, per product, the highest version offered
// as the latest. A signed answer older than either is refused even after
// it would have expired: an old key set cannot bring back a revoked key, and
// an old release replayed by whoever holds the online key installs nothing.
const seenFileName = "seen.json"

// maxSeenFile bounds the memory file read.
const maxSeenFile = 1 << 20

// Seen is what this client has seen of one vendor: the newest key set
// version, and per product the highest version offered as the latest.
type Seen struct {
	KeySet   int64             `json:"keyset"`
	Products map[string]string `json:"products,omitempty"`
}

type seenMemory map[string]*Seen // by root key ID

// SeenPath is the memory file.
func (s Store) SeenPath() string { return filepath.Join(s.StateDir, seenFileName) }

// vendorID names the vendor by a root key: the first of the trust's root
// keys that the memory already knows, so a trust file that lists its keys
// in another order (or adds one) keeps the memory.
func vendorID(trust *api.Trust, mem seenMemory) string {
	for _, k := range trust.RootKeys {
		if mem[k.ID] != nil {
			return k.ID
		}
	}
	return trust.RootKeys[0].ID
}

// LoadSeen reads what was seen of the vendor of trust; a missing file is
// an empty memory. A damaged one is an error: silently forgetting would
// reopen rollback.
func (s Store) LoadSeen(trust *api.Trust) (*Seen, error) {
	v, _, err := s.loadSeen(trust)
	return v, err
}

func (s Store) loadSeen(trust *api.Trust) (*Seen, seenMemory, error) {
	mem := seenMemory{}
	data, err := durable.ReadFile(s.SeenPath(), maxSeenFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, nil, fail(kind.ErrUsage, err, "cannot read %s (%v); check the state directory's permissions", s.SeenPath(), err)
	default:
		if err := json.Unmarshal(data, &mem); err != nil || mem == nil {
			return nil, nil, fail(kind.ErrVerification, err,
				"%s, where aktual remembers the newest versions it was offered, is damaged; restore it from a backup, or delete it only if you trust the server", s.SeenPath())
		}
	}
	id := vendorID(trust, mem)
	v := mem[id]
	if v == nil {
		v = &Seen{}
		mem[id] = v
	}
	if v.Products == nil {
		v.Products = map[string]string{}
	}
	return v, mem, nil
}

// Remember raises the memory to what a verified answer showed. It never
// lowers it: of two aktual runs writing at once, the later write may drop
// the other's raise, which only leaves an older, still valid, floor.
func (s Store) Remember(trust *api.Trust, keySet int64, product, version string) error {
	v, mem, err := s.loadSeen(trust)
	if err != nil {
		return err
	}
	changed := false
	if keySet > v.KeySet {
		v.KeySet, changed = keySet, true
	}
	if old := v.Products[product]; old == "" || api.CompareVersions(version, old) > 0 {
		v.Products[product], changed = version, true
	}
	if !changed {
		return nil
	}
	data, err := json.MarshalIndent(mem, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(s.SeenPath(), append(data, '\n'))
}
