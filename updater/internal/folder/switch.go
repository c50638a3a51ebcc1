package folder

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/held"
)

// Apply moves the new version in: for each Put, the file at its path (if
// any) to Old, then the staged file to its path; then each Remove to Old.
// Every step is a rename within one volume, and each is done only if it
// is still to do, so Apply also finishes a switch a crash cut anywhere:
//
//	staged, no old       the step has not begun
//	staged, old, no file  the old file is aside; the new one goes in
//	no staged, file       done
//
// A failed rename stops Apply with the folder partly switched: the
// caller undoes it (Undo) or tries again.
func (w Work) Apply(s *Switch) error {
	for _, p := range s.Put {
		if err := w.put(p.Path); err != nil {
			return err
		}
	}
	for _, rel := range s.Remove {
		dst, old := w.Path(rel), w.Old(rel)
		if !exists(dst) {
			continue
		}
		if err := moveAside(dst, old); err != nil {
			return i18n.Errorf("moving %s out of the program folder: %w", rel, err)
		}
		fault.Hit(fault.FolderSwitched)
	}
	w.removeEmptyParents(s.Remove)
	w.syncFolders(s)
	return nil
}

func (w Work) put(rel string) error {
	dst, staged, old := w.Path(rel), w.Staged(rel), w.Old(rel)
	if !exists(staged) {
		if exists(dst) {
			return nil // moved in before
		}
		return i18n.Errorf("the new version of %s is neither staged nor in place; the work folder %s was changed by someone else", rel, w.Root)
	}
	if exists(dst) {
		if exists(old) {
			return i18n.Errorf("%s was written again while aktual replaced it; close the programs that use the folder and run aktual recover", dst)
		}
		if err := moveAside(dst, old); err != nil {
			return i18n.Errorf("moving the old %s aside: %w", rel, err)
		}
		fault.Hit(fault.FolderSwitched)
	}
	if err := MkdirInside(w.Dir, rel); err != nil {
		return err
	}
	if err := patientRename(staged, dst, dst); err != nil {
		return i18n.Errorf("putting the new %s in place: %w", rel, err)
	}
	fault.Hit(fault.FolderSwitched)
	return nil
}

// Undo puts the old version back from any point of Apply: each file moved
// aside returns; each new file with no old one is removed; what Apply has
// not reached is left. It is idempotent, like Apply.
func (w Work) Undo(s *Switch) error {
	var errs []error
	for i := len(s.Remove) - 1; i >= 0; i-- {
		rel := s.Remove[i]
		if old := w.Old(rel); exists(old) && !exists(w.Path(rel)) {
			if err := restore(old, w.Dir, rel); err != nil {
				errs = append(errs, err)
				continue
			}
			fault.Hit(fault.FolderUndone)
		}
	}
	for i := len(s.Put) - 1; i >= 0; i-- {
		if err := w.unput(s.Put[i].Path); err != nil {
			errs = append(errs, err)
		}
	}
	w.removeEmptyParents(putPaths(s))
	w.syncFolders(s)
	return errors.Join(errs...)
}

func (w Work) unput(rel string) error {
	dst, staged, old := w.Path(rel), w.Staged(rel), w.Old(rel)
	switch {
	case exists(staged):
		// Not moved in. The old file is aside only if Apply stopped
		// between its two renames: it goes back.
		if exists(old) && !exists(dst) {
			if err := restore(old, w.Dir, rel); err != nil {
				return err
			}
			fault.Hit(fault.FolderUndone)
		}
		return nil
	case exists(old):
		// The new file is in place and the old one aside: swap back.
		// The new file returns to the stage, so a crash between the two
		// renames leaves a state Undo (or Apply) reads again.
		if exists(dst) {
			if err := moveAside(dst, staged); err != nil {
				return i18n.Errorf("taking the new %s out again: %w", rel, err)
			}
			fault.Hit(fault.FolderUndone)
		}
		if err := restore(old, w.Dir, rel); err != nil {
			return err
		}
		fault.Hit(fault.FolderUndone)
		return nil
	case exists(dst):
		// A new file where there was none: it goes back to the stage.
		if err := moveAside(dst, staged); err != nil {
			return i18n.Errorf("taking the new %s out again: %w", rel, err)
		}
		fault.Hit(fault.FolderUndone)
	}
	return nil
}

// Applied reports whether Apply has finished: every Put in place and no
// longer staged, every Remove gone from the folder.
func (w Work) Applied(s *Switch) bool {
	for _, p := range s.Put {
		if exists(w.Staged(p.Path)) || !exists(w.Path(p.Path)) {
			return false
		}
	}
	for _, rel := range s.Remove {
		if exists(w.Path(rel)) {
			return false
		}
	}
	return true
}

// moveAside renames from, in the program folder, to to, creating to's
// folder in the work folder.
func moveAside(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	return patientRename(from, to, from)
}

// restore renames old back to rel in dir.
func restore(old, dir, rel string) error {
	if err := MkdirInside(dir, rel); err != nil {
		return err
	}
	dst := filepath.Join(dir, filepath.FromSlash(rel))
	if err := patientRename(old, dst, dst); err != nil {
		return i18n.Errorf("putting back the old %s: %w", rel, err)
	}
	return nil
}

// removeEmptyParents removes the folders of rels that are left empty,
// up to (not including) the program folder. A folder with anything in it
// (the customer's files) stays.
func (w Work) removeEmptyParents(rels []string) {
	for _, rel := range rels {
		for dir := filepath.Dir(filepath.FromSlash(rel)); dir != "." && dir != string(filepath.Separator); dir = filepath.Dir(dir) {
			if os.Remove(filepath.Join(w.Dir, dir)) != nil {
				break
			}
		}
	}
}

// syncFolders makes the renames durable: the program folder's folders
// the switch touched. Best effort: the renames are done either way.
func (w Work) syncFolders(s *Switch) {
	seen := map[string]bool{}
	for _, rel := range append(putPaths(s), s.Remove...) {
		dir := w.Dir
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			dir = w.Path(rel[:i])
		}
		if !seen[dir] {
			seen[dir] = true
			_ = durable.SyncDir(dir)
		}
	}
}

func putPaths(s *Switch) []string {
	out := make([]string, len(s.Put))
	for i, p := range s.Put {
		out[i] = p.Path
	}
	return out
}

// rename is os.Rename; the tests cut a switch at any rename with it.
var rename = os.Rename

// isHeld is held.ByAnother; the tests make any error "held" with it.
var isHeld = held.ByAnother

// patientRename is rename, tried again for a short while when the system
// says the file is held (held.Retry): on Windows an antivirus scanner or
// the search indexer opens a new file for a moment, and a program closing
// takes a moment to let go. Still held after that, the error names name,
// the file's path in the program folder (the one the customer knows,
// whichever side of the rename was held), and what to do; the switch
// fails and is undone.
func patientRename(from, to, name string) error {
	if err := held.Retry(isHeld, func() error { return rename(from, to) }); err != nil {
		return held.Explain(name, err)
	}
	return nil
}
