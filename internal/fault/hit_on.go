//go:build aktualfault

package fault

import "os"

var armed = os.Getenv(Env)

// Enabled reports whether this build honours AKTUAL_FAULT.
const Enabled = true

// Armed reports whether step is the one this process dies at.
func Armed(step string) bool { return armed == step }

// Hit kills the process with SIGKILL (TerminateProcess on Windows) when
// step is the armed one. Unlike a power cut, what was written but not yet
// synced survives in the operating system's cache.
func Hit(step string) {
	if armed != step {
		return
	}
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		p.Kill()
	}
	select {} // never returns: the kill is on its way
}
