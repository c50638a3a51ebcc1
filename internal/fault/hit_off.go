//go:build !aktualfault

package fault

// Hit does nothing: this build cannot be killed by a fault.
func Hit(string) {}

// Armed reports whether step is the one this process dies at: never.
func Armed(string) bool { return false }

// Interrupting reports whether the armed step interrupts the process
// instead of killing it: never.
func Interrupting() bool { return false }

// Enabled reports whether this build honours AKTUAL_FAULT.
const Enabled = false
