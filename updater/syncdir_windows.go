//go:build windows

package updater

// syncDir is a no-op on Windows: directories cannot be opened for sync, and
// NTFS journals renames itself.
func syncDir(string) error { return nil }
