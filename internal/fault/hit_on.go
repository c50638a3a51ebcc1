//go:build aktualfault

package fault

import (
	"os"
	"strconv"
	"sync"
	"time"
)

var (
	armed        = os.Getenv(Env)
	armedAt      = countFromEnv()
	hits         int
	hitsMu       sync.Mutex
	interrupting = os.Getenv(ModeEnv) == ModeInterrupt
	interruptOne sync.Once
)

// Enabled reports whether this build honours AKTUAL_FAULT.
const Enabled = true

// Armed reports whether step is the one this process dies at (or, in
// interrupt mode, is interrupted at).
func Armed(step string) bool { return armed == step }

// Interrupting reports whether the armed step interrupts the process
// instead of killing it: the process carries on past Hit.
func Interrupting() bool { return interrupting }

// interruptSettle is how long Hit waits after the SIGINT, so the signal
// handler has cancelled the command's context before the code goes on.
const interruptSettle = 200 * time.Millisecond

// Hit kills the process with SIGKILL (TerminateProcess on Windows) when
// step is the armed one. Unlike a power cut, what was written but not yet
// synced survives in the operating system's cache.
//
// In interrupt mode it instead sends the process SIGINT, once (a second
// would make aktual quit at once), waits interruptSettle and returns.
func Hit(step string) {
	if armed != step {
		return
	}
	hitsMu.Lock()
	hits++
	n := hits
	hitsMu.Unlock()
	if n < armedAt {
		return
	}
	if interrupting {
		interruptOne.Do(func() {
			if interrupt() {
				time.Sleep(interruptSettle)
			}
		})
		return
	}
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		p.Kill()
	}
	select {} // never returns: the kill is on its way
}

// countFromEnv reads AKTUAL_FAULT_COUNT: the armed hit, 1 when unset or
// not a positive number.
func countFromEnv() int {
	n, err := strconv.Atoi(os.Getenv(CountEnv))
	if err != nil || n < 1 {
		return 1
	}
	return n
}
