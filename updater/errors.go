package updater

import (
	"errors"
	"fmt"
)

// Conditions a caller maps to exit codes (DESIGN.md). Every error the
// updater returns wraps exactly one of them, or none for the unexpected.
var (
	ErrUsage              = errors.New("usage")                         // 2: a flag or argument is wrong
	ErrInputNeeded        = errors.New("input needed")                  // 2: no way to ask for an answer
	ErrNoConnection       = errors.New("no connection")                 // 3
	ErrCredentialRejected = errors.New("credential rejected")           // 4
	ErrExhausted          = errors.New("no updates remaining")          // 5
	ErrVerification       = errors.New("verification failed")           // 6: nothing applied
	ErrApply              = errors.New("apply failed")                  // 7: target unchanged, released
	ErrNotReported        = errors.New("completion not yet reported")   // 8: applied; will be retried
	ErrDeclined           = errors.New("declined")                      // 2: the user said no
	ErrBusy               = errors.New("another update is in progress") // 2
)

// Error is an updater failure: Kind is one of the sentinels above, Msg says
// what happened and what to do, Err is the cause (kept for errors.Is/As).
type Error struct {
	Kind error
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	return e.Msg
}

// Unwrap lets errors.Is find both the kind and the cause.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func fail(kind error, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: cause}
}
