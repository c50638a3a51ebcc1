//go:build darwin

package hwkey

import "path/filepath"

// defaultRoots returns the mounted volumes, and a description of where it
// looked for them. The startup disk is listed too (as a link to /); a
// licence file is rarely at its root, and reading a root folder is cheap.
func defaultRoots() (roots []string, where string) {
	matches, _ := filepath.Glob("/Volumes/*") // only ErrBadPattern, and this one is good
	for _, m := range matches {
		if isDir(m) {
			roots = append(roots, m)
		}
	}
	return roots, "/Volumes"
}
