package folder

import (
	"errors"

	"golang.org/x/sys/windows"
)

// heldByAnother reports whether err is Windows refusing a rename because
// another program has the file open (or locked, or, for a scanner that
// opened it without sharing, denies access for the moment).
func heldByAnother(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION) ||
		errors.Is(err, windows.ERROR_ACCESS_DENIED)
}
