//go:build !windows

package swap

// replaceable: nothing to do here, where a rename over a file needs only
// its folder to be writable.
func replaceable(string) {}
