package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"golang.org/x/text/unicode/norm"

	"github.com/aktual/aktual/api"
)

// FolderParams describe a folder release (a whole program folder, issue
// 17): PublishParams without File and URL, and the folder.
type FolderParams struct {
	PublishParams
	// Dir is the program's folder, or a .zip, .tar.gz or .tgz archive of
	// it; an archive that holds one top folder and nothing else has that
	// folder as its root.
	Dir string
	// Preserve are the customer's paths (api.MatchPreserve patterns):
	// shipped for a first install, never overwritten by an update.
	Preserve []string
	// Main is the program, relative to the folder: the health check runs
	// it. With AutoHealthCheck, DefaultHealthCheck when Main looks like a
	// program, none otherwise (and none without Main).
	Main string
}

// PublishFolder stores every file of a folder and its manifest in the
// blob store, signs the release (the manifest's sha256 and size) with the
// release key and records it with its files. A folder that breaks a rule
// (api.Manifest.Validate, or a link, device or archive entry that cannot
// be published) is refused before anything is recorded, and the blobs
// stored for it are removed unless another release names them.
func (a *Admin) PublishFolder(ctx context.Context, p FolderParams) (api.ReleaseStatement, *api.Manifest, error) {
	defer a.Changes.Changed()
	switch {
	case p.File != nil || p.URL != "":
		return api.ReleaseStatement{}, nil, errors.New("a folder release takes --dir, never --file or --url")
	case p.Dir == "":
		return api.ReleaseStatement{}, nil, errors.New("--dir is required: the program's folder, or a .zip or .tar.gz of it")
	case len(p.HealthCheck) > 0 && p.Main == "":
		return api.ReleaseStatement{}, nil, errors.New("--health-check runs the program: give --main with it, or --health-check none")
	}
	if err := a.checkPublish(ctx, &p.PublishParams); err != nil {
		return api.ReleaseStatement{}, nil, err
	}
	stored := map[string]bool{}
	put := func(r io.Reader) (string, int64, error) {
		sum, size, err := a.Blobs.Put(r)
		if err == nil {
			stored[sum] = true
		}
		return sum, size, err
	}
	st, m, err := a.publishFolder(ctx, &p, put)
	if err != nil {
		// Nothing of a refused publish stays behind but what another
		// release names.
		for sum := range stored {
			if used, herr := a.Store.HasArtifact(context.WithoutCancel(ctx), sum); herr == nil && !used {
				_ = a.Blobs.Remove(sum) // a leftover blob is unused space, never served: only what a release names is
			}
		}
		return api.ReleaseStatement{}, nil, err
	}
	// No delta patches: a bsdiff of two manifests saves nothing, and
	// per-file patches are a later step.
	return st, m, nil
}

func (a *Admin) publishFolder(ctx context.Context, p *FolderParams, put func(io.Reader) (string, int64, error)) (api.ReleaseStatement, *api.Manifest, error) {
	files, err := readFolder(ctx, p.Dir, put)
	if err != nil {
		return api.ReleaseStatement{}, nil, err
	}
	m := &api.Manifest{
		Product: p.Product, Version: p.Version, OS: p.OS, Arch: p.Arch,
		Main: norm.NFC.String(p.Main), Files: files,
	}
	for _, pat := range p.Preserve {
		m.Preserve = append(m.Preserve, norm.NFC.String(pat))
	}
	m.Normalize()
	if err := m.Validate(); err != nil {
		return api.ReleaseStatement{}, nil, fmt.Errorf("%s: %w; change the folder or the flags and publish again", p.Dir, err)
	}
	if err := a.folderHealthCheck(p, m); err != nil {
		return api.ReleaseStatement{}, nil, err
	}
	// Patches from the files' earlier versions, signed with the manifest.
	if _, err := a.patchMaker().FilePatches(ctx, m, put); err != nil {
		return api.ReleaseStatement{}, nil, err
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return api.ReleaseStatement{}, nil, err
	}
	if len(data) > api.MaxManifestSize {
		return api.ReleaseStatement{}, nil, fmt.Errorf("%s: the manifest would be %d bytes, at most %d; publish fewer files (pack rarely changed ones into an archive)", p.Dir, len(data), api.MaxManifestSize)
	}
	sum, size, err := put(bytes.NewReader(data))
	if err != nil {
		return api.ReleaseStatement{}, nil, err
	}
	st, err := a.publishStored(ctx, p.PublishParams, sum, size, m)
	return st, m, err
}

// readFolder reads the folder or archive at dir into the blob store (put)
// and returns its files, unsorted.
func readFolder(ctx context.Context, dir string, put func(io.Reader) (string, int64, error)) ([]api.ManifestFile, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("--dir %s: %w; give the program's folder, or a .zip or .tar.gz of it", dir, err)
	}
	fr := newFolderReader(dir, put)
	if fi.IsDir() {
		if err := walkFolder(ctx, dir, fr); err != nil {
			return nil, err
		}
		return fr.manifestFiles(false)
	}
	kind := archiveKind(dir)
	if kind == "" || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("--dir %s is neither a folder nor a .zip, .tar.gz or .tgz archive; give the program's folder, or an archive of it", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("--dir %s: %w", dir, err)
	}
	defer f.Close()
	if kind == "zip" {
		err = readZip(ctx, f, fi.Size(), fr)
	} else {
		err = readTarGz(ctx, f, fr)
	}
	if err != nil {
		return nil, err
	}
	return fr.manifestFiles(true)
}

// folderHealthCheck chooses the health check of a folder release: with
// AutoHealthCheck, DefaultHealthCheck when Main looks like a program (as
// for a single file), none without Main.
func (a *Admin) folderHealthCheck(p *FolderParams, m *api.Manifest) error {
	if !p.AutoHealthCheck {
		return nil
	}
	p.HealthCheck = nil
	if m.Main == "" {
		return nil
	}
	f, _ := m.Lookup(m.Main)
	blob, err := a.Blobs.Open(f.SHA256)
	if err != nil {
		return fmt.Errorf("reading --main %s: %w", m.Main, err)
	}
	defer blob.Close()
	head, _, err := peekHead(blob)
	if err != nil {
		return fmt.Errorf("reading --main %s: %w", m.Main, err)
	}
	if LooksExecutable(head) {
		p.HealthCheck = DefaultHealthCheck
	}
	return nil
}

// distinctSums are the sha256 of a manifest's files and their patches,
// each once, sorted: the artifacts the release names.
func distinctSums(m *api.Manifest) []string {
	seen := map[string]bool{}
	var out []string
	add := func(sum string) {
		if !seen[sum] {
			seen[sum] = true
			out = append(out, sum)
		}
	}
	for _, f := range m.Files {
		add(f.SHA256)
		for _, p := range f.Patches {
			add(p.SHA256)
		}
	}
	sort.Strings(out)
	return out
}
