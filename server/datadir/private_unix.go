//go:build !windows

package datadir

import (
	"fmt"
	"io/fs"
	"os"
)

// openToOthers says how the file is open to users other than its owner
// ("" when it is not): any permission bit for the group or others.
func openToOthers(fi fs.FileInfo) string {
	switch perm := fi.Mode().Perm(); {
	case perm&0o022 != 0:
		return "writable by other users"
	case perm&0o044 != 0:
		return "readable by other users"
	case perm&0o011 != 0 && fi.IsDir():
		return "open to other users"
	}
	return ""
}

// makePrivate sets path's mode, whatever the umask made it.
func makePrivate(path string, mode os.FileMode) error {
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("making %s private to its owner: %w", path, err)
	}
	return nil
}
