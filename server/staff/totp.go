package staff

import (
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP as every authenticator app does it (RFC 6238): 30-second steps,
// 6 digits, HMAC-SHA-1. The apps ignore other settings or get them wrong,
// so these are fixed.
const (
	totpPeriod     = 30
	totpDigits     = otp.DigitsSix
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226's recommendation
	// totpMinSecret refuses a stored secret too short to be secret (an
	// empty one would make every code computable by anyone).
	totpMinSecret = 10
	// totpMaxSecret bounds a stored secret (base32 characters).
	totpMaxSecret = 128
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// NewTOTP makes a new TOTP secret for login, and the otpauth:// URL an
// authenticator app reads (from a QR code, or typed) to show login's
// codes under issuer's name. The secret is unpadded base32, as
// store.StaffAccount.TOTPSecret keeps it. Neither login nor issuer may
// contain a colon: it separates the two in the app's label.
func NewTOTP(login, issuer string) (secret, otpauthURL string, err error) {
	switch {
	case strings.TrimSpace(login) == "" || strings.TrimSpace(issuer) == "":
		return "", "", errors.New("making a TOTP secret: the login and the issuer must not be empty")
	case strings.Contains(login, ":") || strings.Contains(issuer, ":"):
		return "", "", errors.New("making a TOTP secret: the login and the issuer must not contain a colon (it separates them in the app)")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: login,
		Period:      totpPeriod,
		SecretSize:  totpSecretSize,
		Digits:      totpDigits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", fmt.Errorf("making a TOTP secret for %s: %w", login, err)
	}
	return key.Secret(), key.URL(), nil
}

// CheckTOTP reports whether code is secret's code at now, or at the step
// before or after (a phone's clock a little off, or a code typed as it
// changed). Spaces in code are ignored ("123 456", as some apps show it);
// anything but six digits is false, as is a secret that is malformed or
// too short. All three steps are compared, each in constant time.
//
// A code stays valid for up to 90 seconds. A sign-in takes MatchTOTP's
// step and records it (store.Staff.UseTOTPStep), so that a code is good
// once; the login throttle (Throttle.Attempt at StepCode) is what stops
// guessing, at 5 guesses in 15 minutes against 3 in a million.
func CheckTOTP(secret, code string, now time.Time) bool {
	_, ok := MatchTOTP(secret, code, now)
	return ok
}

// MatchTOTP is CheckTOTP that also says which time step (Unix time / 30)
// the code is of, so that a sign-in can refuse a code used before
// (store.Staff.UseTOTPStep).
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != totpDigits.Length() || strings.ContainsFunc(code, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, false
	}
	if !validTOTPSecret(secret) {
		return 0, false
	}
	var matched int64
	for _, skew := range []time.Duration{-totpPeriod * time.Second, 0, totpPeriod * time.Second} {
		at := now.Add(skew)
		want, err := totp.GenerateCodeCustom(secret, at, totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = at.Unix() / totpPeriod
		}
	}
	return matched, matched != 0
}

// validTOTPSecret: base32 (upper or lower case, padded or not, as the
// otp library reads it) of at least totpMinSecret bytes.
func validTOTPSecret(secret string) bool {
	if len(secret) > totpMaxSecret {
		return false
	}
	s := strings.TrimRight(strings.ToUpper(strings.TrimSpace(secret)), "=")
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	return err == nil && len(b) >= totpMinSecret
}
