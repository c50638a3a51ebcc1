package journal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/kind"
)

// errLocked is returned by tryLock when another process holds the lock.
var errLocked = errors.New("locked")

// lockPath is the lock file beside a target: beside it, not in the state
// directory, so runs with different state directories (root and a user)
// still exclude each other. It is never removed, which would race.
func LockPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-lock")
}

// Lock takes the target's exclusive lock for one update (or its
// recovery), without waiting. The lock is the operating system's (flock,
// LockFileEx), so it is released when the process dies, however it dies.
func Lock(target string) (unlock func(), err error) {
	f, err := os.OpenFile(LockPath(target), os.O_CREATE|os.O_RDWR, 0o644)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
		return nil, fail(kind.ErrApply, err, "cannot write the folder of %s (%v); run as a user who may change it; nothing was changed or used",
			target, err)
	} else if err != nil {
		return nil, i18n.Errorf("opening the lock beside %s: %w", target, err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fail(kind.ErrBusy, err, "another aktual is updating %s right now; wait for it to finish, then run this again", target)
		}
		return nil, i18n.Errorf("locking %s: %w", target, err)
	}
	return func() { unlockFile(f); f.Close() }, nil
}

// fail makes a kind.Error; format is an English message, the catalog key.
func fail(k error, cause error, format string, args ...any) *kind.Error {
	return kind.Fail(k, cause, format, args...)
}
