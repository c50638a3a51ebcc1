package updater

import "github.com/aktual/aktual/updater/internal/kind"

// Conditions a caller maps to exit codes (DESIGN.md). Every error the
// updater returns wraps exactly one of them, or none for the unexpected.
// They are the values of internal/kind, where the engine's parts make
// them, so errors.Is finds them whichever part failed.
var (
	ErrUsage              = kind.ErrUsage              // 2: a flag or argument is wrong
	ErrInputNeeded        = kind.ErrInputNeeded        // 2: no way to ask for an answer
	ErrNoConnection       = kind.ErrNoConnection       // 3
	ErrCredentialRejected = kind.ErrCredentialRejected // 4
	ErrExhausted          = kind.ErrExhausted          // 5
	ErrVerification       = kind.ErrVerification       // 6: nothing applied
	ErrApply              = kind.ErrApply              // 7: target unchanged, released
	ErrNotReported        = kind.ErrNotReported        // 8: applied; will be retried
	ErrDeclined           = kind.ErrDeclined           // 2: the user said no
	ErrBusy               = kind.ErrBusy               // 2
	ErrInUse              = kind.ErrInUse              // 9: another program holds the program's files; nothing changed or used
)

// Error is an updater failure: Kind is one of the sentinels above, Msg says
// what happened and what to do (in English; a printer shows it in the
// reader's language), Err is the cause (kept for errors.Is/As). With no
// Msg, the cause's own message is shown.
type Error = kind.Error

// fail makes an Error; format is an English message, the catalog key.
func fail(k error, cause error, format string, args ...any) *Error {
	return kind.Fail(k, cause, format, args...)
}
