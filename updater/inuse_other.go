//go:build !windows

package updater

const isWindows = false
