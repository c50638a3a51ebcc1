package patches

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"sort"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Per-file patches of folder releases (issue 17): a file of a new folder
// release gets a bsdiff patch from the content the same path had in each
// of the Policy's earlier folder releases, when the patch is small enough
// to be worth it. They are listed in the manifest, signed with it, so no
// table of patches is needed; their blobs are the release's artifacts.

// MinFileSize: a file smaller than this gets no patch; its whole download
// costs about what the patch's request does.
const MinFileSize = 64 << 10

// FilePatches adds patches to the files of m (a new folder release, not
// yet recorded) from the earlier folder releases of its product and
// platform, storing each patch with put. It returns the patches' sha256.
// A patch that cannot be made is left out: patches save bytes, nothing
// more; only a failure to store one is returned.
func (m *Maker) FilePatches(ctx context.Context, man *api.Manifest, put func(io.Reader) (string, int64, error)) ([]string, error) {
	pol := m.Policy
	if pol.disabled() {
		return nil, nil
	}
	if _, err := exec.LookPath("bzip2"); err != nil {
		return nil, nil // bsdiff compresses with it; whole files then
	}
	earlier, err := m.earlierManifests(ctx, man, pol.from())
	if err != nil {
		return nil, err
	}
	var sums []string
	for i := range man.Files {
		f := &man.Files[i]
		if f.Size < MinFileSize || f.Size > pol.maxSize() || man.Preserved(f.Path) {
			continue
		}
		for _, old := range earlier {
			of, ok := old.Lookup(f.Path)
			if !ok || of.SHA256 == f.SHA256 || of.Size > pol.maxSize() || hasPatchFrom(f, of.SHA256) {
				continue
			}
			p, err := m.filePatch(ctx, of, *f, put)
			if err != nil {
				return sums, err
			}
			if p != nil {
				f.Patches = append(f.Patches, *p)
				sums = append(sums, p.SHA256)
			}
		}
	}
	return sums, nil
}

func hasPatchFrom(f *api.ManifestFile, from string) bool {
	for _, p := range f.Patches {
		if p.From == from {
			return true
		}
	}
	return false
}

// earlierManifests reads the manifests of the n newest folder releases
// of man's product and platform older than man (stable versions only).
func (m *Maker) earlierManifests(ctx context.Context, man *api.Manifest, n int) ([]*api.Manifest, error) {
	rs, err := m.Store.Releases(ctx, man.Product, man.OS, man.Arch)
	if err != nil {
		return nil, err
	}
	sort.Slice(rs, func(i, j int) bool { return api.CompareVersions(rs[i].Version, rs[j].Version) > 0 })
	var out []*api.Manifest
	for _, r := range rs {
		if len(out) == n {
			break
		}
		if !store.IsFolder(r) || api.CompareVersions(r.Version, man.Version) >= 0 || !stable(r.Version) {
			continue
		}
		old, err := m.readManifest(r.SHA256)
		if err != nil {
			continue // unreadable: no patches from it
		}
		out = append(out, old)
	}
	return out, nil
}

func stable(v string) bool { return !bytes.ContainsRune([]byte(v), '-') }

func (m *Maker) readManifest(sum string) (*api.Manifest, error) {
	f, err := m.Blobs.Open(sum)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, api.MaxManifestSize+1))
	if err != nil {
		return nil, err
	}
	if api.SHA256Hex(data) != sum {
		return nil, errNotManifest
	}
	var man api.Manifest
	if err := json.Unmarshal(data, &man); err != nil {
		return nil, err
	}
	return &man, nil
}

// filePatch diffs two contents in the blob store, proves the patch, and
// stores it when it saves at least a fifth of the download.
func (m *Maker) filePatch(ctx context.Context, from, to api.ManifestFile, put func(io.Reader) (string, int64, error)) (*api.FilePatch, error) {
	patch, err := m.diff(ctx, store.Release{Version: from.Path, SHA256: from.SHA256, Size: from.Size},
		store.Release{Version: to.Path, SHA256: to.SHA256, Size: to.Size})
	if err != nil || !wantPatchSize(int64(len(patch)), to.Size) {
		return nil, nil
	}
	sum, size, err := put(bytes.NewReader(patch))
	if err != nil {
		return nil, err
	}
	return &api.FilePatch{From: from.SHA256, SHA256: sum, Size: size, Format: api.PatchBSDiff}, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

const errNotManifest = errorString("not the manifest its name says")
