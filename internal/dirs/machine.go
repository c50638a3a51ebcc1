package dirs

import (
	"path/filepath"
	"strings"
)

// MachineState is the installer's state directory for programs installed
// for every user of the computer (aktual install --all-users): journals,
// records and locks that any administrator's aktual must find, whoever
// installed the program. %ProgramData%\aktual on Windows,
// /Library/Application Support/aktual on macOS, /var/lib/aktual elsewhere.
func MachineState() string { return filepath.Join(machineStateBase(), "aktual") }

// InMachinePrograms reports whether path lies in the machine's programs
// folder (Programs(true)): a program there is every user's, so its state
// is the machine's. Windows compares without regard to case.
func InMachinePrograms(path string) bool {
	base := filepath.Clean(machinePrograms())
	rel, err := filepath.Rel(base, filepath.Clean(path))
	if err != nil || rel == "." {
		return false
	}
	if caseless {
		rel, err = filepath.Rel(strings.ToLower(base), strings.ToLower(filepath.Clean(path)))
		if err != nil {
			return false
		}
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
