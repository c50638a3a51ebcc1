//go:build windows

package durable

// SyncDir is a no-op on Windows: directories cannot be opened for sync, and
// NTFS journals renames itself.
func SyncDir(string) error { return nil }
