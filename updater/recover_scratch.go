package updater

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/journal"
)

// A run killed while it downloads or applies a patch leaves its work
// files beside the target (patchPath, patchedPath). They are scratch, not
// a kept download: the next update of that target starts them again, so
// recovery removes them. The kept download (downloadPath and its sidecar)
// and the target itself are never touched.

// scratchOwner is a target whose folder may hold patch work files, and
// the product installed there when known.
type scratchOwner struct{ target, product string }

// removeScratch removes the patch work files beside each target. A target
// another run is updating right now is skipped: its files are in use, and
// that run removes them itself.
func (u *Updater) removeScratch(owners []scratchOwner) []Recovered {
	var out []Recovered
	for _, o := range owners {
		files := scratchFiles(o.target, owners)
		if len(files) == 0 {
			continue
		}
		rec := Recovered{Target: o.target, Product: o.product, Scratch: files}
		unlock, err := journal.Lock(o.target)
		if errors.Is(err, ErrBusy) {
			continue
		} else if err != nil {
			rec.Action, rec.Err = ActionPending, err
			out = append(out, rec)
			continue
		}
		// Looked at again under the lock: a run that held it may have
		// removed them meanwhile.
		files = scratchFiles(o.target, owners)
		var left []string
		for _, f := range files {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				left = append(left, f)
				if rec.Err == nil {
					rec.Err = i18n.Errorf("cannot remove %s (%v); delete it by hand, or run aktual recover as a user who may change its folder", f, fetch.RootCause(err))
				}
			}
		}
		unlock()
		switch {
		case rec.Err != nil:
			rec.Action, rec.Scratch = ActionPending, left
		case len(files) == 0:
			continue
		default:
			rec.Action, rec.Scratch = ActionCleaned, files
		}
		out = append(out, rec)
	}
	return out
}

// scratchFiles lists the patch work files beside target: regular files or
// links (a link is removed, never what it points to), and never a path
// that is itself one of the targets.
func scratchFiles(target string, owners []scratchOwner) []string {
	var files []string
	for _, p := range []string{patchPath(target), patchedPath(target)} {
		fi, err := os.Lstat(p)
		if err != nil || !(fi.Mode().IsRegular() || fi.Mode()&fs.ModeSymlink != 0) || isOwner(p, owners) {
			continue
		}
		files = append(files, p)
	}
	return files
}

func isOwner(path string, owners []scratchOwner) bool {
	for _, o := range owners {
		if o.target == path {
			return true
		}
	}
	return false
}

// scratchOwners are the targets recovery looks beside: those of the
// journals and of the install records in the state directory, and also
// (resolved as an update resolves its --target), each once.
func (u *Updater) scratchOwners(journaled []scratchOwner, also []string) []scratchOwner {
	var owners []scratchOwner
	seen := map[string]int{}
	add := func(target, product string) {
		if target == "" {
			return
		}
		if i, ok := seen[target]; ok {
			if owners[i].product == "" {
				owners[i].product = product
			}
			return
		}
		seen[target] = len(owners)
		owners = append(owners, scratchOwner{target, product})
	}
	for _, o := range journaled {
		add(o.target, o.product)
	}
	installs, _ := u.state().InstallPaths() // unreadable records are status's to show
	for _, path := range installs {
		if r, err := journal.ReadInstallRecord(path); err == nil {
			add(r.Target, r.Product)
		}
	}
	for _, t := range also {
		add(scratchTarget(t), "")
	}
	return owners
}

// scratchTarget is the path an update of t works beside: absolute, with
// symlinks resolved when t exists.
func scratchTarget(t string) string {
	if t == "" {
		return ""
	}
	abs, err := filepath.Abs(t)
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}
