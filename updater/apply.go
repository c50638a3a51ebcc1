package updater

import (
	"encoding/hex"
	"github.com/aktual/aktual/internal/i18n"
	"os"
	"path/filepath"

	"github.com/minio/selfupdate"

	"github.com/aktual/aktual/internal/fault"
)

func selfupdateOptions(target string, sha256hex string) (selfupdate.Options, error) {
	sum, err := hex.DecodeString(sha256hex)
	if err != nil {
		return selfupdate.Options{}, err
	}
	// The old file is kept aside (not removed) until the new one has
	// passed its health check.
	opts := selfupdate.Options{TargetPath: target, Checksum: sum, OldSavePath: oldPath(target)}
	if fi, err := os.Stat(target); err == nil {
		opts.TargetMode = fi.Mode().Perm()
	}
	return opts, nil
}

// checkWritable fails when the target's folder cannot take the new file:
// asked before anything is reserved, so no unit is held for a target that
// cannot be updated.
func checkWritable(target string) error {
	opts := selfupdate.Options{TargetPath: target}
	if err := opts.CheckPermissions(); err != nil {
		return fail(ErrApply, err, "cannot write the folder of %s (%v); run as a user who may change it; nothing was changed or used",
			target, rootCause(err))
	}
	return nil
}

// stage writes the verified file as the new version beside the target
// (selfupdate's .target.new), checking its hash once more, then makes it
// durable with the target's mode: selfupdate neither syncs nor escapes the
// umask.
func stage(target, verified, sha256hex string) error {
	opts, err := selfupdateOptions(target, sha256hex)
	if err != nil {
		return err
	}
	f, err := os.Open(verified)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := selfupdate.PrepareAndCheckBinary(f, opts); err != nil {
		return err
	}
	staged, err := os.OpenFile(stagedPath(target), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer staged.Close()
	if opts.TargetMode != 0 {
		if err := staged.Chmod(opts.TargetMode); err != nil {
			return err
		}
	}
	if err := staged.Sync(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(target))
}

// commit swaps the staged file into place. selfupdate renames the old file
// aside (never overwriting a running executable), renames the new one in,
// and restores the old one if that fails. rollbackFailed reports the one
// bad case: neither file is at the target's name.
func commit(target, sha256hex string) (rollbackFailed bool, err error) {
	opts, err := selfupdateOptions(target, sha256hex)
	if err != nil {
		return false, err
	}
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
	if err := selfupdate.CommitBinary(opts); err != nil {
		if rerr := selfupdate.RollbackError(err); rerr != nil {
			return true, i18n.Errorf("%w; restoring the old file also failed: %v", err, rerr)
		}
		return false, err
	}
	// The swap happened: a failed sync of the folder must not turn into
	// giving the update back. (It is best effort beyond this point.)
	_ = syncDir(filepath.Dir(target))
	return false, nil
}

// cleanStaging removes files an interrupted update may have left: the
// staged new version, and the download it came from.
func cleanStaging(target string) {
	discardPartial(target)
	os.Remove(stagedPath(target))
}
