package updater

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aktual/aktual/updater/internal/folder"
	"github.com/aktual/aktual/updater/internal/journal"
)

// UninstallRequest removes a program folder aktual installed.
type UninstallRequest struct {
	Target string // the folder, or a file in it
	// Purge removes the preserved files (the customer's data) too.
	Purge bool
	// InUse is asked, as in an update, when programs hold the files.
	InUse func(ctx context.Context, procs []Process) error
}

// UninstallResult says what was removed and what is left.
type UninstallResult struct {
	Product    string   `json:"product"`
	Version    string   `json:"version"`
	Dir        string   `json:"dir"`
	Removed    int      `json:"removed"`
	Kept       []string `json:"kept,omitempty"` // files left in the folder (preserved, or no manifest's)
	DirRemoved bool     `json:"dir_removed"`
	// Registration and Shortcut are what the install made and the
	// uninstall removed ("" for none).
	Registration string `json:"registration,omitempty"`
	Shortcut     string `json:"shortcut,omitempty"`
}

// Uninstall removes the files of the installed version (the preserved
// ones only with Purge; files no manifest names never), the folders left
// empty, the folder itself when nothing is left, an interrupted update's
// work folder beside it, what the install registered, and aktual's
// record. It consumes nothing. Run again after
// a crash, it finishes.
func (u *Updater) Uninstall(ctx context.Context, req UninstallRequest) (*UninstallResult, error) {
	if req.Target == "" {
		return nil, fail(ErrUsage, nil, "--target is required: the folder of the program to remove (or a file in it)")
	}
	dir, st, err := u.resolveUpdateTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if st == nil || st.record == nil {
		return nil, fail(ErrUsage, nil, "aktual did not install a program folder at %s, so it does not know which files are the program's; remove it by hand", req.Target)
	}
	unlock, err := journal.Lock(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if j, err := u.loadJournal(dir); err != nil || j != nil {
		if err == nil {
			err = fail(ErrBusy, nil, "an update of %s is not finished; run aktual recover first, then uninstall", dir)
		}
		return nil, err
	}
	rec := st.record
	m, err := u.state().LoadManifest(rec.SHA256)
	if err != nil || m == nil {
		return nil, fail(ErrUsage, err, "aktual's list of the files of %s %s in %s is missing or damaged; remove the folder by hand", rec.Product, rec.Version, dir)
	}
	w := folder.For(dir)
	var files []string
	checked := map[string]bool{}
	for _, f := range m.Files {
		if (req.Purge || !m.Preserved(f.Path)) && fileExists(w.Path(f.Path)) && folder.CheckInside(dir, f.Path, checked) == nil {
			files = append(files, f.Path) // never through a link out of the folder
		}
	}
	if err := u.waitForUninstall(ctx, req, dir, w, files); err != nil {
		return nil, err
	}
	res := &UninstallResult{Product: rec.Product, Version: rec.Version, Dir: dir}
	for _, rel := range files {
		if err := os.Remove(w.Path(rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fail(ErrApply, err, "cannot remove %s (%v); %d files were removed; close the programs that use it, then run aktual uninstall again to finish", w.Path(rel), err, res.Removed)
		}
		res.Removed++
	}
	removeEmptyDirs(dir, files)
	// An update interrupted before it reserved (no journal: nothing to
	// recover) leaves its downloads in the work folder for the next run;
	// with the program gone there is none.
	if err := w.Clean(); err != nil {
		u.notice("could not remove the work folder %s (%v); remove it by hand", w.Root, err)
	}
	res.Kept = leftIn(dir)
	if len(res.Kept) == 0 {
		res.DirRemoved = os.Remove(dir) == nil
	}
	u.unregister(rec, res)
	u.state().RemoveIndex(dir)
	if err := u.state().RemoveInstallRecord(dir); err != nil {
		u.notice("could not remove aktual's record of %s (%v); aktual status still lists it", dir, err)
	}
	u.state().RemoveManifest(rec.SHA256)
	return res, nil
}

// waitForUninstall is waitForFiles for the files an uninstall removes.
func (u *Updater) waitForUninstall(ctx context.Context, req UninstallRequest, dir string, w folder.Work, rels []string) error {
	fs := &folderState{work: w, sw: &folder.Switch{Remove: rels}}
	plan := &Plan{Product: filepath.Base(dir), Target: dir, folder: fs}
	return u.waitForFiles(ctx, Request{InUse: req.InUse}, plan)
}

// removeEmptyDirs removes the folders of rels left empty, deepest first.
func removeEmptyDirs(dir string, rels []string) {
	seen := map[string]bool{}
	var dirs []string
	for _, rel := range rels {
		for d := filepath.Dir(filepath.FromSlash(rel)); d != "." && !seen[d]; d = filepath.Dir(d) {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	sort.Slice(dirs, func(i, j int) bool {
		return strings.Count(dirs[i], string(filepath.Separator)) > strings.Count(dirs[j], string(filepath.Separator))
	})
	for _, d := range dirs {
		os.Remove(filepath.Join(dir, d)) // only when empty
	}
}

// leftIn lists (at most 20 of) the files left in dir.
func leftIn(dir string) []string {
	var left []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || len(left) >= 20 {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			left = append(left, filepath.ToSlash(rel))
		}
		return nil
	})
	return left
}

// unregister removes what the install registered with the system (the
// "Apps & features" entry, the Start-menu shortcut).
func (u *Updater) unregister(rec *InstallRecord, res *UninstallResult) {
	if err := unregisterOS(rec); err != nil {
		u.notice("%v", err)
		return
	}
	res.Registration, res.Shortcut = rec.Registration, rec.Shortcut
}
