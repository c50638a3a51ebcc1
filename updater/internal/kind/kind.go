// Package kind owns the kinds of the updater's failures (the sentinels a
// caller maps to exit codes) and the Error that carries one, so that the
// engine's parts fail with the same values the engine re-exports.
package kind

import (
	"errors"

	"github.com/aktual/aktual/internal/i18n"
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
	ErrInUse              = errors.New("files in use")                  // 9: another program holds the program's files; nothing changed or used
)

// Error is an updater failure: Kind is one of the sentinels above, Msg says
// what happened and what to do (in English; a printer shows it in the
// reader's language), Err is the cause (kept for errors.Is/As). With no
// Msg, the cause's own message is shown.
type Error struct {
	Kind error
	Msg  i18n.Message
	Err  error
}

func (e *Error) Error() string {
	if e.Msg.IsZero() {
		if e.Err != nil {
			return e.Err.Error()
		}
		return ""
	}
	return e.Msg.String()
}

// LocalizeArgs implements i18n.Localizable.
func (e *Error) LocalizeArgs() (string, []any) {
	if e.Msg.IsZero() && e.Err != nil {
		return "%v", []any{e.Err}
	}
	return e.Msg.LocalizeArgs()
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

// Fail makes an Error; format is an English message, the catalog key.
// Each package wraps it in an unexported fail, the name the message
// catalog's test looks for.
func Fail(kind error, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: i18n.M(format, args...), Err: cause}
}
