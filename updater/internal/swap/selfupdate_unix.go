//go:build !windows

package swap

import (
	"os"
	"path/filepath"

	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/updater/internal/durable"
)

// CommitSelf puts a staged aktual in place. selfupdate's swap (Commit) has an
// instant between its two renames when no file is at the target's name:
// for any other program aktual recover finishes it, but a crash there
// during aktual's own update would leave no aktual to run recover with.
// Here the old file is first kept aside by a hard link (for the health
// check's rollback), then the new one is renamed over it in one step, so
// a crash at any instant leaves the old aktual or the new one at its
// path. Where hard links are not supported, selfupdate's swap is used.
func CommitSelf(target, sha256hex string) (rollbackFailed bool, err error) {
	old := OldPath(target)
	if err := os.Remove(old); err != nil && !os.IsNotExist(err) {
		return false, err
	}
	if err := os.Link(target, old); err != nil {
		return Commit(target, sha256hex)
	}
	// Crash tests: the old file aside, the new one not yet in place.
	fault.Hit(fault.BetweenRenames)
	if err := os.Rename(StagedPath(target), target); err != nil {
		os.Remove(old) // the target is the old file still
		return false, err
	}
	// The swap happened: as in Commit, a failed sync must not turn into
	// giving the update back.
	_ = durable.SyncDir(filepath.Dir(target))
	return false, nil
}
