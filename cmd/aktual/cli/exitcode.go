package cli

import (
	"context"
	"errors"

	"github.com/aktual/aktual/internal/i18n"

	"github.com/aktual/aktual/updater"
)

// Exit codes (DESIGN.md, the CLI contract). Scripts depend on them.
const (
	ExitOK           = 0
	ExitUnexpected   = 1
	ExitUsage        = 2
	ExitNoConnection = 3
	ExitCredential   = 4
	ExitExhausted    = 5
	ExitVerification = 6
	ExitApply        = 7
	ExitNotReported  = 8
	// ExitInUse: programs hold files of the program folder (Windows),
	// and they were not closed in time, or another program still held
	// the program's file after the swap's short wait: nothing was
	// changed or used.
	ExitInUse           = 9
	ExitUpdateAvailable = 10
	// ExitInterrupted: stopped by Ctrl-C or SIGTERM (128 + SIGINT, as
	// shells report it). What was left is said, and nothing is lost.
	ExitInterrupted = 130
)

// exitCode is the one place where an error becomes an exit code. The
// outermost kind the updater gave decides: "applied but not reported"
// wraps the connection failure that caused it, and is exit 8, not 3.
func exitCode(err error) int {
	if k := outerKind(err); k != nil {
		err = k
	}
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		// An interruption, also when the updater says what it left
		// in an Error of no kind (a stopped download: "what arrived is
		// kept"); an Error with a kind was decided above. Excluding
		// every *updater.Error made a Ctrl-C mid-download exit 1,
		// "unexpected".
		return ExitInterrupted
	case errors.Is(err, updater.ErrUsage), errors.Is(err, updater.ErrInputNeeded),
		errors.Is(err, updater.ErrDeclined), errors.Is(err, updater.ErrBusy), errors.Is(err, errFlag):
		return ExitUsage
	case errors.Is(err, updater.ErrNoConnection):
		return ExitNoConnection
	case errors.Is(err, updater.ErrCredentialRejected):
		return ExitCredential
	case errors.Is(err, updater.ErrExhausted):
		return ExitExhausted
	case errors.Is(err, updater.ErrVerification):
		return ExitVerification
	case errors.Is(err, updater.ErrApply):
		return ExitApply
	case errors.Is(err, updater.ErrNotReported):
		return ExitNotReported
	case errors.Is(err, updater.ErrInUse):
		return ExitInUse
	}
	return ExitUnexpected
}

// outerKind returns the kind of the outermost updater error that has one.
func outerKind(err error) error {
	for err != nil {
		var ue *updater.Error
		if !errors.As(err, &ue) {
			return nil
		}
		if ue.Kind != nil {
			return ue.Kind
		}
		err = ue.Err
	}
	return nil
}

// errFlag marks command-line mistakes found by cobra or by our checks.
var errFlag = errors.New("usage")

type flagError struct{ msg i18n.Message }

func (e *flagError) Error() string                 { return e.msg.String() }
func (e *flagError) Unwrap() error                 { return errFlag }
func (e *flagError) LocalizeArgs() (string, []any) { return e.msg.LocalizeArgs() }

// usageError is a command-line mistake; msg says what to pass instead.
func usageError(msg i18n.Message) error { return &flagError{msg: msg} }

// errorCode names an error's kind for scripts: the result's error_code.
func errorCode(err error) string {
	switch exitCode(err) {
	case ExitOK:
		return ""
	case ExitUsage:
		if k := outerKind(err); k == updater.ErrInputNeeded {
			return "input_needed"
		} else if k == updater.ErrDeclined {
			return "declined"
		} else if k == updater.ErrBusy {
			return "busy"
		}
		return "usage"
	case ExitNoConnection:
		return "no_connection"
	case ExitCredential:
		return "credential_rejected"
	case ExitExhausted:
		return "exhausted"
	case ExitVerification:
		return "verification_failed"
	case ExitApply:
		return "apply_failed"
	case ExitNotReported:
		return "not_reported"
	case ExitInUse:
		return "in_use"
	case ExitInterrupted:
		return "interrupted"
	}
	return "unexpected"
}
