//go:build !windows

package osapp

import "github.com/aktual/aktual/internal/i18n"

// StartMenuDir returns an error: only Windows has a Start menu, and
// callers make no shortcut elsewhere.
func StartMenuDir(allUsers bool) (string, error) {
	return "", i18n.Errorf("no Start menu on this system")
}

func volumeOf(string) (driveType, serial uint32) { return 0, 0 }
