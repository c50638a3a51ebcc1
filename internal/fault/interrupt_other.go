//go:build aktualfault && !unix

package fault

// interrupt does nothing: a process cannot send itself a Ctrl-C here
// (on Windows it is a console event for the whole console), so the
// interrupt mode is not supported and the armed step passes unharmed.
func interrupt() bool { return false }
