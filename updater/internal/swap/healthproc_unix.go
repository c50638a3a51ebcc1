//go:build !windows

package swap

import (
	"os/exec"
	"syscall"
)

// ownGroup runs the check in its own process group and kills the whole
// group at the timeout, so children it started cannot outlive it holding
// the new file open.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
