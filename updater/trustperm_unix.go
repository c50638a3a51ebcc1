//go:build !windows

package updater

import (
	"os"
	"path/filepath"
)

// othersMayWrite is the mode bits that let the group or everyone change a
// file, or the entries of a folder.
const othersMayWrite = 0o022

// checkTrustPerms refuses a trust file that other users of this computer
// may change: whoever can write trust.json chooses the keys, and so what
// aktual installs. The file (its symlinks followed) and the folders that
// hold its name and its contents must be writable by their owner alone; a
// folder with the sticky bit (/tmp) lets no one else replace the file.
func checkTrustPerms(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fail(ErrUsage, err, "cannot read the trust file %s: %v", path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fail(ErrUsage, err, "cannot read the trust file %s: %v", path, err)
	}
	if fi.Mode().Perm()&othersMayWrite != 0 {
		return fail(ErrUsage, nil, "the trust file %s can be changed by other users of this computer (its mode is %v), and whoever changes it chooses what aktual installs, so aktual refuses it; run: chmod go-w %s",
			path, fi.Mode().Perm(), real)
	}
	for _, dir := range trustDirs(path, real) {
		di, err := os.Stat(dir)
		if err != nil {
			return fail(ErrUsage, err, "cannot read the trust file %s: %v", path, err)
		}
		if di.Mode().Perm()&othersMayWrite != 0 && di.Mode()&os.ModeSticky == 0 {
			return fail(ErrUsage, nil, "the trust file %s is in the folder %s, which other users of this computer can change (its mode is %v): they could put another trust file in its place, so aktual refuses it; run: chmod go-w %s, or keep trust.json in a folder only you or the administrator can change",
				path, dir, di.Mode().Perm(), dir)
		}
	}
	return nil
}

// trustDirs is the folder of the name given and, when that is a symlink,
// the folder of the file it leads to.
func trustDirs(path, real string) []string {
	dirs := []string{filepath.Dir(path)}
	if d := filepath.Dir(real); d != dirs[0] {
		dirs = append(dirs, d)
	}
	return dirs
}
