package updater

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/durable"
)

// seenFileName holds what this client has seen of each vendor (by root key):
// the newest key set version and, per product, the highest version offered
// as the latest. A signed answer older than either is refused even after
// it would have expired: an old key set cannot bring back a revoked key, and
// an old release replayed by whoever holds the online key installs nothing.
const seenFileName = "seen.json"

// maxSeenFile bounds the memory file read.
const maxSeenFile = 1 << 20

type seenVendor struct {
	KeySet   int64             `json:"keyset"`
	Products map[string]string `json:"products,omitempty"`
}

type seenMemory map[string]*seenVendor // by root key ID

func (u *Updater) seenPath() string { return filepath.Join(u.StateDir, seenFileName) }

// vendorID names the vendor by a root key: the first of the trust's root
// keys that the memory already knows, so a trust file that lists its keys
// in another order (or adds one) keeps the memory.
func (u *Updater) vendorID(mem seenMemory) string {
	for _, k := range u.Trust.RootKeys {
		if mem[k.ID] != nil {
			return k.ID
		}
	}
	return u.Trust.RootKeys[0].ID
}

// loadSeen reads the memory; a missing file is an empty memory. A damaged
// one is an error: silently forgetting would reopen rollback.
func (u *Updater) loadSeen() (*seenVendor, seenMemory, error) {
	mem := seenMemory{}
	data, err := durable.ReadFile(u.seenPath(), maxSeenFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, nil, fail(ErrUsage, err, "cannot read %s (%v); check the state directory's permissions", u.seenPath(), err)
	default:
		if err := json.Unmarshal(data, &mem); err != nil || mem == nil {
			return nil, nil, fail(ErrVerification, err,
				"%s, where aktual remembers the newest versions it was offered, is damaged; restore it from a backup, or delete it only if you trust the server", u.seenPath())
		}
	}
	id := u.vendorID(mem)
	v := mem[id]
	if v == nil {
		v = &seenVendor{}
		mem[id] = v
	}
	if v.Products == nil {
		v.Products = map[string]string{}
	}
	return v, mem, nil
}

// remember raises the memory to what a verified answer showed. It never
// lowers it: of two aktual runs writing at once, the later write may drop
// the other's raise, which only leaves an older, still valid, floor.
func (u *Updater) remember(keySet int64, product, version string) error {
	v, mem, err := u.loadSeen()
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
	return durable.WriteFile(u.seenPath(), append(data, '\n'))
}
