//go:build windows

package osapp

import (
	"golang.org/x/sys/windows"

	"github.com/aktual/aktual/updater/internal/kind"
)

// IsAdmin reports whether the process runs elevated. An administrator
// whom UAC runs unelevated is not: such a process cannot write HKLM or
// Program Files.
func IsAdmin() bool { return windows.GetCurrentProcessToken().IsElevated() }

// CheckAllUsers returns nil when the process may make an install for all
// users at dir. On Windows that takes elevation whatever dir is: the
// Apps & features entry lives in HKLM and the shortcut in the all-users
// Start menu.
func CheckAllUsers(dir string) error {
	if IsAdmin() {
		return nil
	}
	return fail(kind.ErrUsage, ErrNeedsAdmin,
		"installing for all users in %s needs administrator rights: run aktual from an administrator command prompt, or install for this user only without --all-users", dir)
}
