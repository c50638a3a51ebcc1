//go:build !windows

package swap

import (
	"fmt"
	"os"
	"syscall"
)

// FileID identifies a file across renames: its device and inode. It tells
// the file this journal staged from an identical copy put there otherwise
// (another state directory's run, a reinstall by hand).
func FileID(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("no file identity for %s", path)
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}
