//go:build windows

package dirs

import (
	"os"
	"path/filepath"
)

// userPrograms is %LocalAppData%\Programs, where Windows itself puts
// programs installed for one user (FOLDERID_UserProgramFiles).
func userPrograms() (string, error) {
	d, err := localAppData()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "Programs"), nil
}

// machinePrograms is %ProgramFiles%. A 32-bit aktual on 64-bit Windows
// sees C:\Program Files (x86) there, which is where a 32-bit program
// belongs.
func machinePrograms() string {
	if d := os.Getenv("ProgramFiles"); d != "" {
		return d
	}
	return `C:\Program Files`
}
