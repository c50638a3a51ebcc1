//go:build darwin

package dirs

import (
	"os"
	"path/filepath"
)

// userPrograms is ~/Applications, which Finder and Launchpad look in.
func userPrograms() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "Applications"), nil
}

func machinePrograms() string { return "/Applications" }
