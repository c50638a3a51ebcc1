//go:build windows

package osapp

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"

	"github.com/aktual/aktual/internal/i18n"
)

// StartMenuDir is the folder of the Start menu's programs: the user's
// (%AppData%\Microsoft\Windows\Start Menu\Programs) or, with allUsers,
// the machine's (%ProgramData%\...). The shell's known folder is asked
// first, since an administrator may have redirected it.
func StartMenuDir(allUsers bool) (string, error) {
	id, env := windows.FOLDERID_Programs, "AppData"
	if allUsers {
		id, env = windows.FOLDERID_CommonPrograms, "ProgramData"
	}
	if d, err := windows.KnownFolderPath(id, windows.KF_FLAG_DEFAULT); err == nil && d != "" {
		return d, nil
	}
	if base := os.Getenv(env); base != "" {
		return filepath.Join(base, `Microsoft\Windows\Start Menu\Programs`), nil
	}
	return "", i18n.Errorf("cannot find the Start menu's folder (is %s set?)", "%"+env+"%")
}

// volumeOf is the drive type and serial number of the volume path is on,
// which a shortcut records so Windows can find its target again; zeros
// (a fixed drive, no serial) when Windows will not say.
func volumeOf(path string) (driveType, serial uint32) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, 0
	}
	root := make([]uint16, windows.MAX_PATH+1)
	if windows.GetVolumePathName(p, &root[0], uint32(len(root))) != nil {
		return 0, 0
	}
	driveType = windows.GetDriveType(&root[0])
	if driveType < 2 { // DRIVE_UNKNOWN, DRIVE_NO_ROOT_DIR
		driveType = 0
	}
	if windows.GetVolumeInformation(&root[0], nil, 0, &serial, nil, nil, nil, 0) != nil {
		serial = 0
	}
	return driveType, serial
}
