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

// CodeError says what is wrong with a typed update code.
type CodeError struct {
	Group  int // 1-based group that looks mistyped; 0 when the length is wrong
	Digits int // how many digits were typed
	Reason string
}

func (e *CodeError) Error() string { return e.Reason }
func (e *CodeError) Unwrap() error { return ErrMalformedCode }

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
	digits, err := onlyDigits(s, "update code", "your receipt")
	if err != nil {
		return "", err
	}
	if len(digits) != CodeDigits {
		return "", &CodeError{Digits: len(digits), Reason: fmt.Sprintf(
			"the update code has %d digits; it must have %d (five groups of five, e.g. 12345-67890-12345-67890-12345): check it against your receipt",
			len(digits), CodeDigits)}
	}
	for g := 0; g < CodeGroups; g++ {
		group := digits[g*CodeGroupSize : (g+1)*CodeGroupSize]
		if !DammValid(group) {
			return "", &CodeError{Group: g + 1, Digits: len(digits), Reason: fmt.Sprintf(
				"the %s group of digits (%s) looks mistyped; check it against your receipt",
				Ordinal(g+1), group)}
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
// anything else, naming the character.
func onlyDigits(s, what, source string) (string, error) {
	if len(s) > maxTypedCode {
		return "", &CodeError{Reason: fmt.Sprintf("the %s is far too long; type only its digits", what)}
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\t' || r == '\u00a0' || r == '\u2013' || r == '\u2014':
		default:
			return "", &CodeError{Reason: fmt.Sprintf(
				"the %s may contain only digits, spaces and dashes, not %q; retype it from %s", what, r, source)}
		}
	}
	if b.Len() == 0 {
		return "", &CodeError{Reason: fmt.Sprintf("no %s was given; type the digits you received", what)}
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
