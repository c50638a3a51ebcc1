package api

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Update-code geometry: five groups of five digits, each group four random
// digits and a Damm check digit, so a typo is caught on the customer's
// machine and the message can name the group that is wrong.
const (
	CodeGroups    = 5
	CodeGroupSize = 5
	CodeDigits    = CodeGroups * CodeGroupSize
)

// ErrMalformedCode is wrapped by every error ParseCode returns.
var ErrMalformedCode = errors.New("malformed update code")

// CodeError says what is wrong with a typed update or Internet code.
type CodeError struct {
	Group  int // 1-based group that looks mistyped; 0 when the length is wrong
	Digits int // how many digits were typed
	Reason string

	// The reason as an English format and its arguments, so the
	// installer can show it in the customer's language.
	format string
	args   []any
}

func (e *CodeError) Error() string { return e.Reason }
func (e *CodeError) Unwrap() error { return ErrMalformedCode }

// LocalizeArgs gives the reason's English format and arguments (the
// installer's message catalog translates it).
func (e *CodeError) LocalizeArgs() (string, []any) { return e.format, e.args }

// problem makes a CodeError; format is an English message, the key of its
// translations.
func problem(format string, args ...any) *CodeError {
	return &CodeError{Reason: fmt.Sprintf(format, args...), format: format, args: args}
}

var ordinals = [...]string{"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"}

// Ordinal returns "first", "second", … for 1-based n.
func Ordinal(n int) string {
	if n >= 1 && n <= len(ordinals) {
		return ordinals[n-1]
	}
	return fmt.Sprintf("#%d", n)
}

// UpdateCode is a canonical 25-digit Pro-series update code (digits only).
type UpdateCode string

// String shows the code as customers see it: 12345-67890-12345-67890-12345.
func (c UpdateCode) String() string { return groupDigits(string(c), CodeGroupSize, "-") }

// Masked shows only the last group, for logs and staff screens.
func (c UpdateCode) Masked() string {
	s := string(c)
	if len(s) < CodeGroupSize {
		return "*****"
	}
	return "*****-*****-*****-*****-" + s[len(s)-CodeGroupSize:]
}

// LastGroup returns the final group of digits (a hint that identifies a code
// to staff without revealing it).
func (c UpdateCode) LastGroup() string {
	s := string(c)
	if len(s) < CodeGroupSize {
		return ""
	}
	return s[len(s)-CodeGroupSize:]
}

// ParseCode accepts a code typed with spaces, dashes or nothing between the
// groups and checks every group's check digit.
func ParseCode(s string) (UpdateCode, error) {
	digits, err := onlyDigits(s, false)
	if err != nil {
		return "", err
	}
	if len(digits) != CodeDigits {
		e := problem("the update code has %d digits; it must have %d (five groups of five, e.g. 12345-67890-12345-67890-12345): check it against your receipt",
			len(digits), CodeDigits)
		e.Digits = len(digits)
		return "", e
	}
	for g := 0; g < CodeGroups; g++ {
		group := digits[g*CodeGroupSize : (g+1)*CodeGroupSize]
		if !DammValid(group) {
			e := problem("the %[1]s group of digits (%[2]s) looks mistyped; check it against your receipt",
				Ordinal(g+1), group, g+1)
			e.Group, e.Digits = g+1, len(digits)
			return "", e
		}
	}
	return UpdateCode(digits), nil
}

// NewCode returns a fresh random update code.
func NewCode() (UpdateCode, error) {
	var b strings.Builder
	for g := 0; g < CodeGroups; g++ {
		group, err := randomDigits(CodeGroupSize - 1)
		if err != nil {
			return "", err
		}
		b.WriteString(group)
		b.WriteByte(DammCheckDigit(group))
	}
	return UpdateCode(b.String()), nil
}

func randomDigits(n int) (string, error) {
	b := make([]byte, n)
	ten := big.NewInt(10)
	for i := range b {
		d, err := rand.Int(rand.Reader, ten)
		if err != nil {
			return "", fmt.Errorf("generating a code: %w", err)
		}
		b[i] = '0' + byte(d.Int64())
	}
	return string(b), nil
}

// maxTypedCode bounds what a parser looks at: a code with generous
// separators is far shorter.
const maxTypedCode = 200

// onlyDigits drops the separators people type (spaces, dashes) and refuses
// anything else, naming the character. internet: an Internet code, else
// an update code.
func onlyDigits(s string, internet bool) (string, error) {
	if len(s) > maxTypedCode {
		if internet {
			return "", problem("the Internet code is far too long; type only its digits")
		}
		return "", problem("the update code is far too long; type only its digits")
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\t' || r == '\u00a0' || r == '\u2013' || r == '\u2014':
		default:
			if internet {
				return "", problem("the Internet code may contain only digits, spaces and dashes, not %q; retype it from the page", r)
			}
			return "", problem("the update code may contain only digits, spaces and dashes, not %q; retype it from your receipt", r)
		}
	}
	if b.Len() == 0 {
		if internet {
			return "", problem("no Internet code was given; type the digits shown on the page")
		}
		return "", problem("no update code was given; type the digits you received")
	}
	return b.String(), nil
}

func groupDigits(s string, size int, sep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += size {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i:min(i+size, len(s))])
	}
	return b.String()
}
