package updater

import (
	"errors"
	"syscall"
)

// inUseError reports whether err is the operating system's refusal to
// replace a file another program holds (Windows: a sharing violation).
func inUseError(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == 32 || errno == 33) && isWindows
}
