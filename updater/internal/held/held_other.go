//go:build !windows

package held

// inUse: never here, where an open file does not stop its rename.
func inUse(error) bool { return false }

// denied: never here. A folder the user may not write is found before
// anything is reserved (swap.CheckWritable), and waiting does not change
// Unix permissions.
func denied(error) bool { return false }
