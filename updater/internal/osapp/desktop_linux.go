//go:build linux

package osapp

import (
	"os"
	"path/filepath"

	"github.com/aktual/aktual/internal/i18n"
)

// ApplicationsDir is where desktops look for .desktop files: the user's
// $XDG_DATA_HOME/applications (~/.local/share/applications) or, with
// allUsers, /usr/local/share/applications.
func ApplicationsDir(allUsers bool) (string, error) {
	if allUsers {
		return "/usr/local/share/applications", nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "applications"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", i18n.Errorf("cannot find the applications menu's folder: %w", err)
	}
	return filepath.Join(home, ".local", "share", "applications"), nil
}
