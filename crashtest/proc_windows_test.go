//go:build windows

package crashtest

import "os"

const exeSuffix = ".exe"

// diedByKill reports whether a process was ended by TerminateProcess with
// exit code 1, as os.Process.Kill (and so fault.Hit) does. A process that
// exits 1 by itself looks the same; the tests' callers know which to expect.
func diedByKill(ps *os.ProcessState) bool { return ps.ExitCode() == 1 }
