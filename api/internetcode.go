package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// An Internet code is what the classic-series page shows and the customer
// types into the installer: eight digits derived from the session and a
// Damm check digit, shown as three groups of three (123-456-789). It is
// valid for one session, one machine, 15 minutes and a few attempts, so
// eight digits are plenty; the check digit catches a typo before any
// network call.
const (
	InternetCodeDigits = 9
	internetGroup      = 3
)

// InternetCode is a canonical Internet code (digits only).
type InternetCode string

// String shows the code grouped: 123-456-789.
func (c InternetCode) String() string { return groupDigits(string(c), internetGroup, "-") }

// ParseInternetCode accepts the code typed with spaces, dashes or nothing
// and checks its check digit.
func ParseInternetCode(s string) (InternetCode, error) {
	digits, err := onlyDigits(s, true)
	if err != nil {
		return "", err
	}
	if len(digits) != InternetCodeDigits {
		e := problem("the Internet code has %d digits; it must have %d (three groups of three, e.g. 123-456-789): copy it again from the page",
			len(digits), InternetCodeDigits)
		e.Digits = len(digits)
		return "", e
	}
	if !DammValid(digits) {
		e := problem("the Internet code looks mistyped (its check digit does not match); copy it again carefully from the page")
		e.Digits = len(digits)
		return "", e
	}
	return InternetCode(digits), nil
}

// DeriveInternetCode computes a session's Internet code from the server's
// secret, so the code itself is never stored.
func DeriveInternetCode(secret []byte, session string) InternetCode {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("aktual-internet-code-v1\x00"))
	m.Write([]byte(session))
	n := binary.BigEndian.Uint64(m.Sum(nil)) % 100_000_000
	body := fmt.Sprintf("%08d", n)
	return InternetCode(body + string(DammCheckDigit(body)))
}
