// Package held owns one answer to Windows refusing a file operation
// because the file is held: whether an error is that refusal (ByAnother),
// trying the operation again for a short while, backing off (Retry), and
// the error, once it is still refused, that names the file and says what
// to do (Explain). A scanner, the search indexer or a program closing
// holds a file for a moment; a program that keeps it open, or a folder
// the user may not change, does not let go, and the customer must act.
// The single-file swap, the folder switch and the clearing of a folder
// update's stage all go through here.
package held

import (
	"time"

	"github.com/aktual/aktual/updater/internal/kind"
)

// Patience is about how long an operation refused because its file is
// held is tried again: long enough for a scan or a program closing, short
// enough that a customer waiting sees the message soon.
const Patience = 2 * time.Second

// The waits between tries start short (most holds are a scanner's
// moment) and double, but never grow so long that a file let go is left
// waiting for long.
const (
	firstWait   = 20 * time.Millisecond
	longestWait = 500 * time.Millisecond
)

// ByAnother reports whether err says the file is held: another program
// has it open (a sharing or lock violation), or access is denied, which
// may be for the moment (a scanner, a file being deleted) or for good (a
// folder the user may not change). Never elsewhere than Windows, where
// an open file does not stop its rename.
func ByAnother(err error) bool { return inUse(err) || denied(err) }

// Retry runs op, and again while isHeld says its error is a held file,
// waiting between tries (20 ms, doubling, at most half a second) for
// about Patience in all. It returns op's last error. It takes no context:
// the wait is short, and a switch half done is finished or undone by its
// caller before a Ctrl-C ends the run.
func Retry(isHeld func(error) bool, op func() error) error {
	return retry(isHeld, op, time.Sleep)
}

func retry(isHeld func(error) bool, op func() error, sleep func(time.Duration)) error {
	err := op()
	for wait, waited := firstWait, time.Duration(0); err != nil && isHeld(err) && waited < Patience; wait = min(2*wait, longestWait) {
		d := min(wait, Patience-waited)
		sleep(d)
		waited += d
		err = op()
	}
	return err
}

// Explain turns err, the last refusal of an operation on path after
// Retry, into the error the customer reads: it names path and says what
// to do. Another program holding the file is ErrInUse (exit 9); denied
// access is ErrApply. Any other error is returned as it is. Both keep err
// for errors.Is.
func Explain(path string, err error) error {
	switch {
	case inUse(err):
		return inUseError(path, err)
	case denied(err):
		return deniedError(path, err)
	}
	return err
}

func inUseError(path string, err error) error {
	return fail(kind.ErrInUse, err, "%s is in use by another program (one that has it open, or an antivirus scanner checking it) and was still held after %d seconds; close that program, or wait for the scan to finish, then try again",
		path, int(Patience/time.Second))
}

func deniedError(path string, err error) error {
	return fail(kind.ErrApply, err, "Windows denied access to %s, still after %d seconds; if it is in a folder only administrators may change (such as Program Files), run aktual as administrator or install the program for this user only; if a program still uses it, close it; then try again",
		path, int(Patience/time.Second))
}

// fail makes a kind.Error; format is an English message, the catalog key.
func fail(k error, cause error, format string, args ...any) *kind.Error {
	return kind.Fail(k, cause, format, args...)
}
