//go:build windows

package swap

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// FileID identifies a file across renames: its volume and file index. It
// tells the file this journal staged from an identical copy put there
// otherwise (another state directory's run, a reinstall by hand).
func FileID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x:%x:%x", info.VolumeSerialNumber, info.FileIndexHigh, info.FileIndexLow), nil
}
