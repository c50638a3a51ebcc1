// Package folder owns putting a whole program folder in place: the work
// folder beside it (downloaded objects, the staged new version, the files
// moved aside), the switch plan, and the switch itself, which is
// idempotent both ways: Apply finishes a switch a crash cut in two, Undo
// puts the old version back from any point of it. Between them, every
// instant leaves a state that one of the two turns into one whole version.
package folder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/held"
)

// Work is the work folder of an update of the program folder Dir: beside
// it, so every rename between the two stays on one volume.
type Work struct {
	Dir  string // the program folder
	Root string // the work folder
}

// For returns the work folder of the program folder dir.
func For(dir string) Work {
	return Work{Dir: dir, Root: filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".aktual-work")}
}

// Path is where the relative path rel lives in the program folder.
func (w Work) Path(rel string) string { return filepath.Join(w.Dir, filepath.FromSlash(rel)) }

// Staged is where the new version of rel waits for the switch. The stage
// and the old files are flat folders, each file named by its path's hash:
// no folder to create per file (a mkdir is slow on many file systems),
// and no name too long for them.
func (w Work) Staged(rel string) string { return filepath.Join(w.Root, "stage", flatName(rel)) }

// Old is where the switch moves the old version of rel.
func (w Work) Old(rel string) string { return filepath.Join(w.Root, "old", flatName(rel)) }

// flatName names rel's file in the stage and among the old files: 128
// bits of its path's sha256.
func flatName(rel string) string {
	sum := sha256.Sum256([]byte(rel))
	return hex.EncodeToString(sum[:16])
}

// Object is the verified file with this sha256, downloaded or copied.
func (w Work) Object(sha string) string { return filepath.Join(w.Root, "objects", sha) }

// ManifestPath is the new version's manifest, as signed.
func (w Work) ManifestPath() string { return filepath.Join(w.Root, "manifest.json") }

func (w Work) switchPath() string { return filepath.Join(w.Root, "switch.json") }

// StageDir is the folder of the staged new version.
func (w Work) StageDir() string { return filepath.Join(w.Root, "stage") }

// Switch is what the switch does, saved before it starts: the files it
// moves in (each replacing the file at its path, if any, which is moved
// to Old), and the files it moves out.
type Switch struct {
	Put    []Put    `json:"put"`
	Remove []string `json:"remove,omitempty"`
}

// Put is one file the switch moves in.
type Put struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// maxSwitchSize bounds the read of switch.json.
const maxSwitchSize = 64 << 20

// SaveSwitch writes the switch plan, whole and durable.
func (w Work) SaveSwitch(s *Switch) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return durable.WriteFile(w.switchPath(), data)
}

// LoadSwitch reads the switch plan; (nil, nil) when there is none. Each
// path is checked again: the work folder is only as safe as its folder.
func (w Work) LoadSwitch() (*Switch, error) {
	data, err := durable.ReadFile(w.switchPath(), maxSwitchSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var s Switch
	if err := api.DecodeStrict(data, &s); err != nil {
		return nil, i18n.Errorf("the switch plan %s is damaged: %v", w.switchPath(), err)
	}
	for _, p := range s.Put {
		if err := api.CheckPath(p.Path); err != nil {
			return nil, err
		}
	}
	for _, p := range s.Remove {
		if err := api.CheckPath(p); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// Clean removes the work folder and everything in it.
func (w Work) Clean() error { return removeAll(w.Root) }

// CleanStage removes the staged version, the switch plan and any old
// files left aside (the objects stay, for the next run to use again).
// Only for a work folder whose switch is not under way: never started, or
// undone.
func (w Work) CleanStage() error {
	if err := os.Remove(w.switchPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := removeAll(filepath.Join(w.Root, "old")); err != nil {
		return err
	}
	return removeAll(w.StageDir())
}

// removeAll is os.RemoveAll, tried again for a short while (held.Retry):
// on Windows a file a program just closed (a health check's program that
// just exited, an antivirus scanner that looked at it) may still be held
// a moment, and its folder is not empty until it is let go. That shows
// as more than one error (a sharing violation, a folder not empty), so
// any failure is tried again.
func removeAll(path string) error {
	return held.Retry(func(error) bool { return true }, func() error { return os.RemoveAll(path) })
}

// MkdirInside creates the folders of rel's parents inside dir, refusing
// to go through a symbolic link or anything but a folder: a link placed
// in the program folder must not carry a write outside it.
func MkdirInside(dir, rel string) error { return walkInside(dir, rel, true, nil) }

// CheckInside reports an error when a parent of rel inside dir is a
// symbolic link or not a folder: the check before planning, MkdirInside's
// without creating anything. Folders in checked (when not nil) were found
// good before and are not looked at again; those found good are added.
func CheckInside(dir, rel string, checked map[string]bool) error {
	return walkInside(dir, rel, false, checked)
}

func walkInside(dir, rel string, create bool, checked map[string]bool) error {
	parts := strings.Split(rel, "/")
	cur := dir
	for _, name := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, name)
		if checked[cur] {
			continue
		}
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !create:
			return nil
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		case err != nil:
			return err
		case fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0:
			// A Windows junction reads as a folder that is irregular.
			return fmt.Errorf("%s is a symbolic link or junction; aktual writes no file through one", cur)
		case !fi.IsDir():
			return fmt.Errorf("%s is a file where the new version needs a folder", cur)
		case checked != nil:
			checked[cur] = true
		}
	}
	return nil
}

// exists reports whether anything is at path (a link is not followed).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
