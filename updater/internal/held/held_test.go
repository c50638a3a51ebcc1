package held

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/updater/internal/kind"
)

var errHeld = errors.New("held by another program")

func isFake(err error) bool { return errors.Is(err, errHeld) }

// The schedule: a file let go is tried again soon; one held for good is
// given up after about Patience, having been tried several times; any
// other failure is not waited for at all.
func TestRetry(t *testing.T) {
	for _, tc := range []struct {
		name      string
		heldTries int   // the first tries that find the file held
		other     error // what a try fails with when not held
		wantTries int
		wantErr   error
	}{
		{name: "free at once", heldTries: 0, wantTries: 1},
		{name: "let go after three tries", heldTries: 3, wantTries: 4},
		{name: "held for good", heldTries: 1000, wantTries: 9, wantErr: errHeld},
		{name: "another failure", other: errors.New("disk full"), wantTries: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tries := 0
			var waits []time.Duration
			err := retry(isFake, func() error {
				if tries++; tries <= tc.heldTries {
					return errHeld
				}
				return tc.other
			}, func(d time.Duration) { waits = append(waits, d) })
			if tries != tc.wantTries {
				t.Errorf("%d tries, want %d (waits %v)", tries, tc.wantTries, waits)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) || tc.wantErr == nil && err != tc.other {
				t.Errorf("error %v", err)
			}
			var total time.Duration
			for i, w := range waits {
				total += w
				if w > longestWait || i > 0 && i < len(waits)-1 && w < waits[i-1] {
					t.Errorf("waits %v: each at most %v, growing but for the last", waits, longestWait)
				}
			}
			if total > Patience {
				t.Errorf("waited %v in all, more than %v", total, Patience)
			}
			if tc.heldTries >= 1000 && total != Patience {
				t.Errorf("gave up after %v, want %v", total, Patience)
			}
		})
	}
}

// Retry really waits: a file held for good costs about Patience.
func TestRetryWaitsAboutPatience(t *testing.T) {
	start := time.Now()
	err := Retry(isFake, func() error { return errHeld })
	if took := time.Since(start); !errors.Is(err, errHeld) || took < Patience || took > 5*Patience {
		t.Errorf("held for good: %v after %v, want it after about %v", err, took, Patience)
	}
}

// The messages name the file and what to do, and keep the kind a caller
// maps to an exit code and the cause for errors.Is.
func TestMessages(t *testing.T) {
	const path = `C:\Програми\Склад\sklad.exe`
	for _, tc := range []struct {
		err  error
		kind error
		says []string
	}{
		{inUseError(path, errHeld), kind.ErrInUse, []string{path, "close that program", "antivirus", "try again"}},
		{deniedError(path, errHeld), kind.ErrApply, []string{path, "administrator", "for this user only", "try again"}},
	} {
		if !errors.Is(tc.err, tc.kind) || !errors.Is(tc.err, errHeld) {
			t.Errorf("%v: not of kind %v with its cause", tc.err, tc.kind)
		}
		for _, s := range tc.says {
			if !strings.Contains(tc.err.Error(), s) {
				t.Errorf("%q does not say %q", tc.err, s)
			}
		}
	}
	if err := errors.New("other"); Explain(path, err) != err {
		t.Error("Explain changed an error that is not a held file")
	}
}
