package updater

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/folder"
	"github.com/aktual/aktual/updater/internal/journal"
)

// folderState is what a folder's update carries between its steps.
type folderState struct {
	work   folder.Work
	record *InstallRecord // nil when aktual did not install the folder
	old    *api.Manifest  // the installed version's; nil when unknown
	new    *api.Manifest  // the new version's, once fetched and checked
	data   []byte         // the new manifest's signed bytes
	sw     *folder.Switch
	fetch  []api.ManifestFile // one per sha256 to get: downloaded, or copied from local
	local  map[string]string  // sha256 → an installed file with that content
	// patchFrom: sha256 → an installed file a patch may start from (the
	// unchanged files, and the old versions of the files put in).
	patchFrom map[string]string
	index     journal.Index
	// displaced are the customer's files (in no manifest aktual knows) at
	// paths the new version adds: each is kept under another name.
	displaced []string
	oldNames  map[string]bool // the old manifest's paths, folded
}

// named reports whether the old manifest names rel (in any case).
func (fs *folderState) named(rel string) bool {
	if fs.oldNames == nil {
		fs.oldNames = make(map[string]bool, len(fs.old.Files))
		for _, f := range fs.old.Files {
			fs.oldNames[api.FoldPath(f.Path)] = true
		}
	}
	return fs.oldNames[api.FoldPath(rel)]
}

// FolderInfo says what a folder update does, for the confirmation.
type FolderInfo struct {
	Files         int   // in the new version
	Changed       int   // files written (new or changed)
	Removed       int   // files of the old version the new one drops
	DownloadBytes int64 // what is fetched from the server
}

// planSwitch compares the installed folder with the new manifest: which
// files to put in (new or changed, never a preserved file that exists),
// which to remove (the old manifest's files the new one drops, never a
// preserved one, never a file no manifest names), and which contents to
// fetch (those no installed, unchanged file already has).
func planSwitch(fs *folderState) error {
	w, nw := fs.work, fs.new
	known := make(map[string]journal.IndexEntry, len(fs.index.Files))
	for _, e := range fs.index.Files {
		known[e.Path] = e
	}
	fs.local, fs.patchFrom = map[string]string{}, map[string]string{}
	fs.sw = &folder.Switch{}
	checked := map[string]bool{}
	for _, f := range nw.Files {
		if err := folder.CheckInside(w.Dir, f.Path, checked); err != nil {
			return fail(ErrApply, err, "cannot install %s: %v; nothing was changed or used", f.Path, err)
		}
		sum, present, err := installedHash(w.Path(f.Path), known[f.Path])
		if err != nil {
			return err
		}
		switch {
		case present && nw.Preserved(f.Path):
			continue // the customer's: kept as it is
		case present && sum == f.SHA256:
			fs.local[sum] = w.Path(f.Path)
			fs.patchFrom[sum] = w.Path(f.Path)
			continue
		case present:
			fs.patchFrom[sum] = w.Path(f.Path)
			if fs.old != nil && !fs.named(f.Path) {
				// No version aktual knows had this file: the customer's,
				// in the way of a file the new version adds.
				fs.displaced = append(fs.displaced, f.Path)
			}
		}
		fs.sw.Put = append(fs.sw.Put, folder.Put{Path: f.Path, SHA256: f.SHA256, Size: f.Size})
	}
	fs.sw.Remove = removals(fs, known)
	seen := map[string]bool{}
	for _, p := range fs.sw.Put {
		if !seen[p.SHA256] {
			seen[p.SHA256] = true
			fs.fetch = append(fs.fetch, api.ManifestFile{Path: p.Path, SHA256: p.SHA256, Size: p.Size})
		}
	}
	return nil
}

// removals lists the old version's files the new one drops: not
// preserved by either version's patterns, not in the new version under
// any case, and still in the folder. A dropped file whose content the
// index knows can serve a new file with that content (a file moved).
func removals(fs *folderState, known map[string]journal.IndexEntry) []string {
	if fs.old == nil {
		return nil // unknown: nothing is removed that might be the customer's
	}
	keep := make(map[string]bool, len(fs.new.Files))
	for _, f := range fs.new.Files {
		keep[api.FoldPath(f.Path)] = true
	}
	var out []string
	checked := map[string]bool{}
	for _, f := range fs.old.Files {
		if keep[api.FoldPath(f.Path)] || fs.old.Preserved(f.Path) || fs.new.Preserved(f.Path) {
			continue
		}
		p := fs.work.Path(f.Path)
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || folder.CheckInside(fs.work.Dir, f.Path, checked) != nil {
			continue // gone, not a file, or reached through a link: left alone
		}
		// Removed only as installed: a file the customer changed since is
		// theirs now, and stays.
		sum, _, err := installedHash(p, known[f.Path])
		if err != nil || sum != f.SHA256 {
			continue
		}
		out = append(out, f.Path)
		if fs.local[sum] == "" {
			fs.local[sum] = p
		}
	}
	return out
}

// installedHash returns the sha256 of the file at path, taken from the
// index when the file's size and modification time are as installed.
// present is false when nothing is there; a folder or link where a file
// belongs is an error.
func installedHash(path string, known journal.IndexEntry) (sum string, present bool, err error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", false, nil
	case err != nil:
		return "", false, fail(ErrApply, err, "cannot read %s: %v; nothing was changed or used", path, err)
	case fi.IsDir():
		return "", false, fail(ErrApply, nil, "%s is a folder where the new version has a file; move it away, then run the update again; nothing was changed or used", path)
	case !fi.Mode().IsRegular():
		return "", false, fail(ErrApply, nil, "%s is not a regular file (a link or a device) where the new version has a file; remove it, then run the update again; nothing was changed or used", path)
	}
	if known.Path != "" && sameStat(known, fi) {
		return known.SHA256, true, nil
	}
	sum, _, err = hashFile(path)
	if err != nil {
		return "", false, fail(ErrApply, err, "cannot read %s: %v; nothing was changed or used", path, err)
	}
	return sum, true, nil
}

func sameStat(e journal.IndexEntry, fi fs.FileInfo) bool {
	return e.Size == fi.Size() && e.ModTime == fi.ModTime().UnixNano()
}

// hashFile returns a file's sha256 and size.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// info summarises the plan for the confirmation.
func (fs *folderState) info() *FolderInfo {
	fi := &FolderInfo{Files: len(fs.new.Files), Changed: len(fs.sw.Put), Removed: len(fs.sw.Remove)}
	for _, f := range fs.fetch {
		if fs.local[f.SHA256] == "" {
			fi.DownloadBytes += fs.downloadSize(f)
		}
	}
	return fi
}

// usablePatch is the smallest patch of f that starts from a content an
// installed file has, or nil.
func (fs *folderState) usablePatch(f api.ManifestFile) (*api.FilePatch, string) {
	mf, ok := fs.new.Lookup(f.Path)
	if !ok {
		return nil, ""
	}
	var best *api.FilePatch
	var from string
	for i, p := range mf.Patches {
		if src := fs.patchFrom[p.From]; src != "" && p.Size < f.Size && (best == nil || p.Size < best.Size) {
			best, from = &mf.Patches[i], src
		}
	}
	return best, from
}

// downloadSize is what fetching f costs: its patch, or the whole file.
func (fs *folderState) downloadSize(f api.ManifestFile) int64 {
	if p, _ := fs.usablePatch(f); p != nil {
		return p.Size
	}
	return f.Size
}

// buildIndex records the folder's files as the switch left them: the new
// version's, preserved ones excepted (they are the customer's to change).
// An entry of prev for a file the switch did not put in is kept as it is
// when it names the same content (the file is unchanged since; the next
// update checks its stat again anyway); the rest are read from the disk.
func buildIndex(w folder.Work, m *api.Manifest, manifestSHA string, prev journal.Index, put map[string]bool) journal.Index {
	idx := journal.Index{Manifest: manifestSHA}
	kept := make(map[string]journal.IndexEntry, len(prev.Files))
	for _, e := range prev.Files {
		kept[e.Path] = e
	}
	for _, f := range m.Files {
		if m.Preserved(f.Path) {
			continue
		}
		if e, ok := kept[f.Path]; ok && !put[f.Path] && e.SHA256 == f.SHA256 && e.Size == f.Size {
			idx.Files = append(idx.Files, e)
			continue
		}
		fi, err := os.Lstat(w.Path(f.Path))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != f.Size {
			continue
		}
		idx.Files = append(idx.Files, journal.IndexEntry{Path: f.Path, SHA256: f.SHA256, Size: fi.Size(), ModTime: fi.ModTime().UnixNano()})
	}
	return idx
}
