//go:build !windows

package datadir

import (
	"fmt"
	"io/fs"
	"os"
)

// openToOthers says how the file is open to users other than its owner
// ("" when it is not): a file any of whose group or other bits is set, or
// a folder others may write to (its names are no secret; its files are).
func openToOthers(fi fs.FileInfo) string {
	perm := fi.Mode().Perm()
	switch {
	case perm&0o022 != 0:
		return "writable by other users"
	case fi.IsDir():
		return ""
	case perm&0o044 != 0:
		return "readable by other users"
	case perm&0o011 != 0:
		return "executable by other users"
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
