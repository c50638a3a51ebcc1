// Package osapp owns what a whole application's install asks of the
// operating system beyond its files: the default rights check for an
// install for all users, the "Apps & features" entry and the Start-menu
// shortcut on Windows, and which running programs hold the folder's files.
// It writes nothing into the program's folder itself; the engine
// (updater) decides when to call it.
package osapp

import (
	"errors"

	"github.com/aktual/aktual/updater/internal/kind"
)

// Process is a program holding files of the folder open.
type Process struct {
	PID  int
	Name string // what a person knows it by: its window title or command name
	Path string // its executable, when the system says; may be empty
}

// System is what the engine asks of the operating system while it swaps
// a folder, so that a test can fake, on any OS, a program that holds a
// file the way Windows locks it.
type System interface {
	// InUse returns the processes that hold any of files open or run them.
	InUse(files []string) ([]Process, error)
}

// Real is the running operating system.
var Real System = realSystem{}

type realSystem struct{}

func (realSystem) InUse(files []string) ([]Process, error) { return InUse(files) }

// Bounds on InUse's work (and maxFound).
const (
	// MaxFiles is the most files InUse checks in one call; a folder with
	// more is refused rather than checked in part.
	MaxFiles = 100_000
)

// ErrNeedsAdmin is wrapped by CheckAllUsers' error.
var ErrNeedsAdmin = errors.New("administrator rights needed")

// fail makes an error of a kind the caller maps to an exit code; format
// is an English message, the catalog key.
func fail(k, cause error, format string, args ...any) error {
	return kind.Fail(k, cause, format, args...)
}

// checkCount refuses more files than InUse checks.
func checkCount(files []string) error {
	if len(files) > MaxFiles {
		return fail(kind.ErrUsage, nil, "cannot check which programs use %d files: at most %d are checked", len(files), MaxFiles)
	}
	return nil
}
