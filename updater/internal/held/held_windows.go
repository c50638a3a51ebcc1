package held

import (
	"errors"

	"golang.org/x/sys/windows"
)

// inUse reports whether err is Windows refusing a file another program
// has open without sharing it for this (a sharing violation) or has
// locked.
func inUse(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}

// denied reports whether err is Windows denying access: to a file being
// replaced while open, a running program's file being removed, or a
// folder the user may not change.
func denied(err error) bool { return errors.Is(err, windows.ERROR_ACCESS_DENIED) }
