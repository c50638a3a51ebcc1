package journal

import (
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"

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
//
// Root is the newest root learnt by following the server's chain of root
// keys from the trust file's (or built-in) root, which stays the anchor:
// the entry is still keyed by the anchor's root key, and the next run
// starts from Root without following the chain again. It only grows: a key
// set signed by an older root, or a chain from one, is refused.
type Seen struct {
	KeySet   int64             `json:"keyset"`
	Products map[string]string `json:"products,omitempty"`
	Root     *api.Trust        `json:"root,omitempty"`
}

type seenMemory map[string]*Seen // by root key ID

// SeenPath is the memory file.
func (s Store) SeenPath() string { return filepath.Join(s.StateDir, seenFileName) }

// vendorID names the vendor by a root key: the first of the trust's root
// keys that the memory already knows, so a trust file that lists its keys
// in another order (or adds one) keeps the memory.
//
// A trust file of a newer root (the vendor's fresh trust.json after a
// root rotation) keeps the memory of the vendor whose learnt root it is.
func vendorID(trust *api.Trust, mem seenMemory) string {
	for _, k := range trust.RootKeys {
		if mem[k.ID] != nil {
			return k.ID
		}
	}
	ids := slices.Sorted(maps.Keys(mem))
	for _, k := range trust.RootKeys {
		for _, id := range ids {
			if r := mem[id].Root; r != nil && slices.ContainsFunc(r.RootKeys, func(p api.PublicKey) bool { return p.ID == k.ID }) {
				return id
			}
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
	if v.Root != nil {
		if err := checkLearntRoot(v.Root); err != nil {
			return nil, nil, fail(kind.ErrVerification, err,
				"%s, where aktual remembers the newest versions it was offered, is damaged; restore it from a backup, or delete it only if you trust the server", s.SeenPath())
		}
	}
	return v, mem, nil
}

// checkLearntRoot reads a learnt root as a trust file is read.
func checkLearntRoot(root *api.Trust) error {
	data, err := json.Marshal(root)
	if err != nil {
		return err
	}
	_, err = api.ParseTrust(data)
	return err
}

// RememberRoot keeps root, learnt by following the server's chain of root
// keys from trust's root, as where the next run starts. Never lower: a
// root no newer than the one remembered changes nothing.
func (s Store) RememberRoot(trust, root *api.Trust) error {
	v, mem, err := s.loadSeen(trust)
	if err != nil {
		return err
	}
	if root.Root() <= trust.Root() || (v.Root != nil && root.Root() <= v.Root.Root()) {
		return nil
	}
	v.Root = root
	return s.writeSeen(mem)
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
	return s.writeSeen(mem)
}

func (s Store) writeSeen(mem seenMemory) error {
	data, err := json.MarshalIndent(mem, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(s.SeenPath(), append(data, '\n'))
}
