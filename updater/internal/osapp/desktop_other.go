//go:build !linux

package osapp

import "github.com/aktual/aktual/internal/i18n"

// ApplicationsDir returns an error outside Linux: Windows has its Start
// menu (StartMenuDir), and macOS lists the programs in /Applications.
func ApplicationsDir(allUsers bool) (string, error) {
	return "", i18n.Errorf("no applications menu of .desktop files on this system")
}
