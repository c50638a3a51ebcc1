//go:build !windows

package osapp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/kind"
)

// IsAdmin reports whether the process runs as root.
func IsAdmin() bool { return os.Geteuid() == 0 }

// CheckAllUsers returns nil when the process may make an install for all
// users at dir: when it can write the nearest folder of dir that exists.
// That, not root, is what counts: an administrator may have given a
// group the folder (/opt/vendor), and root cannot write a read-only disk.
func CheckAllUsers(dir string) error {
	p, err := nearestExisting(dir)
	if err != nil {
		return i18n.Errorf("cannot install in %s: %w", dir, err)
	}
	err = unix.Faccessat(unix.AT_FDCWD, p, unix.W_OK, unix.AT_EACCESS)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM):
		return fail(kind.ErrUsage, ErrNeedsAdmin,
			"installing for all users in %s needs administrator rights (you cannot write %s): run aktual with sudo, or install for this user only without --all-users", dir, p)
	case errors.Is(err, unix.EROFS):
		return fail(kind.ErrUsage, err, "cannot install in %s: %s is on a read-only disk; name another folder with --dir", dir, p)
	}
	return i18n.Errorf("cannot install in %s: %w", dir, err)
}

// nearestExisting is dir, or the closest folder above it that exists.
func nearestExisting(dir string) (string, error) {
	p, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		_, err := os.Stat(p)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return p, err
		}
		up := filepath.Dir(p)
		if up == p {
			return p, err
		}
		p = up
	}
}
