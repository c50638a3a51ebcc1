//go:build windows

package hwkey

// defaultRoots returns the drives D:\ to Z:\ that exist, and a description
// of where it looked for them. A: and B: are floppy drives and C: the
// system disk.
func defaultRoots() (roots []string, where string) {
	for letter := 'D'; letter <= 'Z'; letter++ {
		root := string(letter) + `:\`
		if isDir(root) {
			roots = append(roots, root)
		}
	}
	return roots, `drives D:\ to Z:\`
}
