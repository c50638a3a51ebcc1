//go:build !windows && !darwin

package hwkey

import "path/filepath"

// rootPatterns are where desktop Linux (udisks), older systems and people
// mount removable media.
var rootPatterns = []string{"/media/*", "/media/*/*", "/run/media/*/*", "/mnt/*"}

// defaultRoots returns the mounted removable-media folders, and a
// description of where it looked for them.
func defaultRoots() (roots []string, where string) {
	return globDirs(rootPatterns), "/media, /run/media, /mnt"
}

// globDirs returns the folders matching patterns, in order.
func globDirs(patterns []string) []string {
	var dirs []string
	for _, p := range patterns {
		matches, _ := filepath.Glob(p) // only ErrBadPattern, and ours are good
		for _, m := range matches {
			if isDir(m) {
				dirs = append(dirs, m)
			}
		}
	}
	return dirs
}
