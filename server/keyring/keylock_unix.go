//go:build !windows

package keyring

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile waits for an exclusive lock on f (released when the process
// dies, however it dies).
func lockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_EX) }
