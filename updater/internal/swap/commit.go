package swap

import (
	"os"
	"path/filepath"

	"github.com/minio/selfupdate"

	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/internal/fileutil"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/held"
)

// Commit swaps the staged file into place. selfupdate renames the old file
// aside (never overwriting a running executable), renames the new one in,
// and restores the old one if that fails. rollbackFailed reports the one
// bad case: neither file is at the target's name. The staged file's hash
// was checked by Stage.
//
// On Windows another program may hold either file for a moment: a
// scanner or a program reading the target opened without sharing its
// deletion, or a scanner looking at the new file just written. The swap
// is then tried again for a short while (held.Retry), as long as the old
// file is back at its name after each try; still held, the error names
// the target and says what to do (held.Explain: exit 9).
func Commit(target, _ string) (rollbackFailed bool, err error) {
	return commit(target, held.ByAnother)
}

// commit is Commit with the test of a held file given: the tests make
// any error "held" with it.
func commit(target string, isHeld func(error) bool) (rollbackFailed bool, err error) {
	opts := selfupdateOptions(target)
	if fault.Armed(fault.BetweenRenames) {
		// Crash tests only: the instant inside CommitBinary between its
		// two renames, where no hook reaches: the target renamed aside,
		// the new file still staged. A Ctrl-C there (interrupt mode) only
		// cancels a context CommitBinary never looks at, so it is sent
		// here, before both renames, and CommitBinary does them itself.
		if !fault.Interrupting() {
			os.Rename(target, opts.OldSavePath)
		}
		fault.Hit(fault.BetweenRenames)
	}
	// A try whose rollback failed is never repeated: the old file is
	// aside and the new one staged, which recovery finishes.
	err = held.Retry(func(err error) bool { return !rollbackFailed && isHeld(err) }, func() error {
		err := selfupdate.CommitBinary(opts)
		if rerr := selfupdate.RollbackError(err); rerr != nil {
			rollbackFailed = true
			return i18n.Errorf("%w; restoring the old file also failed: %v", err, rerr)
		}
		return err
	})
	if rollbackFailed {
		return true, err
	}
	if err != nil {
		return false, held.Explain(target, err)
	}
	// The swap happened: a failed sync of the folder must not turn into
	// giving the update back. (It is best effort beyond this point.)
	_ = durable.SyncDir(filepath.Dir(target))
	return false, nil
}

// Finish looks at target after a crash and reports whether it holds the
// new version (newSHA256, and the staged file stagedID when set). If the crash fell between selfupdate's two renames (the
// target missing, the old file aside), it completes the swap when the
// staged file is the verified new version, or puts the old file back.
func Finish(target, newSHA256, stagedID string) (applied bool, err error) {
	if exists(target) {
		sum, err := fileutil.SHA256(target)
		if err != nil {
			return false, i18n.Errorf("reading %s: %w", target, err)
		}
		return sum == newSHA256 && ours(target, stagedID), nil
	}
	old := OldPath(target)
	if !exists(old) {
		// Neither the program nor its old version: it was removed, not
		// half-swapped. Nothing is put back in its place.
		return false, nil
	}
	if sum, err := fileutil.SHA256(StagedPath(target)); err == nil && sum == newSHA256 && ours(StagedPath(target), stagedID) {
		if err := os.Rename(StagedPath(target), target); err != nil {
			return false, i18n.Errorf("finishing the interrupted swap of %s: %w", target, err)
		}
		return true, nil
	}
	if err := os.Rename(old, target); err != nil {
		return false, i18n.Errorf("restoring %s from %s: %w", target, old, err)
	}
	return false, nil
}

// ours reports whether the file at path is the one staged as stagedID
// (journals written before StagedID existed are taken at their hash).
func ours(path, stagedID string) bool {
	if stagedID == "" {
		return true
	}
	id, err := FileID(path)
	return err == nil && id == stagedID
}

// exists reports whether path names an existing file.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
