//go:build windows

package swap

import "os/exec"

// ownGroup: on Windows the timeout kills the checked process itself
// (exec's default); WaitDelay bounds the wait for anything it started.
func ownGroup(cmd *exec.Cmd) {}
