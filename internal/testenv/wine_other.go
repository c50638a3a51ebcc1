//go:build !windows

package testenv

// UnderWine reports whether this Windows program runs under Wine: never,
// on this system.
func UnderWine() bool { return false }
