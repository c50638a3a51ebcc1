package cli

import (
	"errors"

	"github.com/aktual/aktual/updater"
)

// Exit codes (DESIGN.md, the CLI contract). Scripts depend on them.
const (
	ExitOK              = 0
	ExitUnexpected      = 1
	ExitUsage           = 2
	ExitNoConnection    = 3
	ExitCredential      = 4
	ExitExhausted       = 5
	ExitVerification    = 6
	ExitApply           = 7
	ExitNotReported     = 8
	ExitUpdateAvailable = 10
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

type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }
func (e *flagError) Unwrap() error { return errFlag }

func usageError(msg string) error { return &flagError{msg: msg} }
