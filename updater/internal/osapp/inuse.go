//go:build linux || windows

package osapp

import "github.com/aktual/aktual/internal/i18n"

// maxFound stops the search once this many processes are found: more are
// no use to the person asked to close them.
const maxFound = 100

// inUseError wraps a failure to ask the system.
func inUseError(err error) error {
	return i18n.Errorf("cannot find which programs use the program's files: %w", err)
}
