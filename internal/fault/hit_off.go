//go:build !aktualfault

package fault

// Hit does nothing: this build cannot be killed by a fault.
func Hit(string) {}

// Enabled reports whether this build honours AKTUAL_FAULT.
const Enabled = false
