package staff

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// API tokens look like "akt_" and 58 lower-case base32 characters: 32
// random bytes and a CRC-32 of them. The prefix lets secret scanners (and
// people) recognise a leaked token; the checksum lets a scanner, or
// ValidToken, tell a token from a look-alike string without asking the
// server. Lower-case base32 has no '-' or '_', so a double-click selects
// a whole token.
const (
	TokenPrefix     = "akt_"
	tokenRandom     = 32
	tokenCRC        = 4
	tokenEncodedLen = ((tokenRandom+tokenCRC)*8 + 4) / 5 // 58
	// TokenLen is the length of every token NewToken makes.
	TokenLen = len(TokenPrefix) + tokenEncodedLen
)

// Console session IDs (cookie values) are 32 random bytes in lower-case
// base32, with no prefix: they never leave the browser's cookie jar.
const (
	sessionRandom = 32
	// SessionIDLen is the length of every ID NewSessionID makes.
	SessionIDLen = (sessionRandom*8 + 4) / 5 // 52
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewToken makes a new API token and the hash to store in its place
// (store.APIToken.Hash). The token is shown once, to its owner.
func NewToken() (token string, hash []byte) {
	buf := make([]byte, tokenRandom+tokenCRC)
	rand.Read(buf[:tokenRandom]) // never fails (crypto/rand since Go 1.24)
	binary.BigEndian.PutUint32(buf[tokenRandom:], crc32.ChecksumIEEE(buf[:tokenRandom]))
	token = TokenPrefix + b32.EncodeToString(buf)
	return token, HashToken(token)
}

// ValidToken reports whether token has the form NewToken gives (prefix,
// length, alphabet, checksum), so a typo or a stray string is refused
// before the database is asked.
func ValidToken(token string) bool {
	enc, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok || len(enc) != tokenEncodedLen {
		return false
	}
	buf, err := b32.DecodeString(enc)
	// Re-encoding refuses the decoder's leniencies (line breaks, unused
	// low bits in the last character): one token, one spelling.
	if err != nil || len(buf) != tokenRandom+tokenCRC || b32.EncodeToString(buf) != enc {
		return false
	}
	return binary.BigEndian.Uint32(buf[tokenRandom:]) == crc32.ChecksumIEEE(buf[:tokenRandom])
}

// HashToken is the hash under which a token is stored and looked up:
// SHA-256. A fast hash is right here, unlike for passwords: a token has
// 256 random bits, so nobody can guess it from its hash however fast they
// hash, and every API request is looked up by it.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewSessionID makes a console session's cookie value and the hash to
// store in its place (store.StaffSession.IDHash).
func NewSessionID() (id string, hash []byte) {
	buf := make([]byte, sessionRandom)
	rand.Read(buf) // never fails (crypto/rand since Go 1.24)
	id = b32.EncodeToString(buf)
	return id, HashSessionID(id)
}

// ValidSessionID reports whether id has the form NewSessionID gives, so a
// forged or damaged cookie is refused before the database is asked.
func ValidSessionID(id string) bool {
	if len(id) != SessionIDLen {
		return false
	}
	buf, err := b32.DecodeString(id)
	return err == nil && len(buf) == sessionRandom && b32.EncodeToString(buf) == id
}

// HashSessionID is the hash under which a session is stored and looked
// up: SHA-256, fast for the same reason as HashToken's (256 random bits).
func HashSessionID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// NewCSRF makes a session's CSRF value (store.StaffSession.CSRF): 32
// random bytes, unpadded base64url, safe in a form field and a header.
func NewCSRF() string {
	buf := make([]byte, 32)
	rand.Read(buf) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// CheckCSRF reports, in constant time, whether a form's CSRF value got is
// the session's want. An empty value never matches.
func CheckCSRF(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// maxAuthorization bounds the Authorization header ParseBearer reads: a
// token is 62 bytes; 512 leaves room for longer formats later.
const maxAuthorization = 512

// ParseBearer reads an Authorization header of the form "Bearer TOKEN"
// (RFC 6750: the scheme in any case, one or more spaces, then the token).
// It refuses an empty token, a header over 512 bytes, and a token with any
// character outside RFC 6750's token68 set (so no whitespace or control
// characters inside). It does not check the token's own form: ValidToken
// does.
func ParseBearer(header string) (token string, ok bool) {
	if len(header) > maxAuthorization {
		return "", false
	}
	header = strings.Trim(header, " \t")
	const scheme = "bearer"
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) || header[len(scheme)] != ' ' {
		return "", false
	}
	token = strings.TrimLeft(header[len(scheme):], " ")
	if token == "" || !isToken68(token) {
		return "", false
	}
	return token, true
}

// isToken68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
