//go:build unix

package crashtest

import (
	"os"
	"syscall"
)

const exeSuffix = ""

// diedByKill reports whether a process was ended by SIGKILL (a fault
// point's, or ours), not by an exit of its own.
func diedByKill(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
