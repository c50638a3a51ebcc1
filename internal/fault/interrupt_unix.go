//go:build aktualfault && unix

package fault

import (
	"os"
	"syscall"
)

// interrupt sends this process SIGINT, as a Ctrl-C would, and reports
// whether it was sent.
func interrupt() bool {
	return syscall.Kill(os.Getpid(), syscall.SIGINT) == nil
}
