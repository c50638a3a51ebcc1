package dirs

import (
	"os"

	"golang.org/x/sys/windows"
)

// caseless: Windows' file names match without regard to case.
const caseless = true

// machineStateBase is %ProgramData%, asked of the shell when the variable
// is missing (a service's environment may lack it).
func machineStateBase() string {
	if d := os.Getenv("ProgramData"); d != "" {
		return d
	}
	if d, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0); err == nil {
		return d
	}
	return `C:\ProgramData`
}
