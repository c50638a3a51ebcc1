package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argonParams are argon2id's cost parameters and lengths, as a PHC string
// records them.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8
	saltLen int
	keyLen  int
}

// defaultParams is what HashPassword uses and what NeedsRehash compares
// against: 64 MiB, 3 passes, 2 lanes (RFC 9106's second recommendation
// with the lanes of a two-core server; well above OWASP's minimums of
// 19 MiB × 2 or 46 MiB × 1). About 130 ms a check on one core of the
// project's 2-core machines: slow for a guesser, unnoticed at a login.
// Raise them here: existing hashes keep checking (their parameters are
// read from the string) and NeedsRehash says to rehash them at the next
// successful login.
var defaultParams = argonParams{memory: 64 * 1024, time: 3, threads: 2, saltLen: 16, keyLen: 32}

// Bounds on the parameters a stored hash may name. A hash is read from the
// database, so a corrupted or hostile one must not make the server
// allocate gigabytes or spin for minutes: these leave room to raise
// defaultParams some fivefold and no more.
const (
	maxMemoryKiB  = 256 * 1024 // 256 MiB
	maxTime       = 10
	maxCostKiB    = 1 << 20 // memory × time: 1 GiB of blocks processed
	maxThreads    = 16
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 64
	maxPHCLen     = 256 // far above the 97 bytes of a default hash
	argonVersion  = argon2.Version
	phcPrefix     = "$argon2id$"
	maxHashesOnce = 4 // see hashSlots
)

// hashSlots bounds the argon2id computations under way at once, so a
// burst of logins (from many addresses, which the throttle does not stop)
// costs at most maxHashesOnce × the memory of one hash; the others wait
// their turn. Two cores compute one 2-lane hash at a time anyway.
var hashSlots = make(chan struct{}, maxHashesOnce)

func deriveKey(p argonParams, pw string, salt []byte) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(p.keyLen))
}

// Password rules for new passwords (CheckNewPassword). MaxPasswordBytes
// also bounds what is hashed at all: a longer password is never stored,
// so CheckPassword refuses one without hashing it.
const (
	MinPasswordChars = 12
	MaxPasswordBytes = 1024
)

// Why a new password is refused (CheckNewPassword). The messages say what
// to do; the console shows them as they are.
var (
	ErrPasswordTooShort = fmt.Errorf("the password is too short: use at least %d characters (a generated password is safest)", MinPasswordChars)
	ErrPasswordTooLong  = fmt.Errorf("the password is longer than %d bytes: choose a shorter one", MaxPasswordBytes)
	ErrPasswordIsLogin  = errors.New("the password must not be the login: choose another")
	ErrPasswordBadText  = errors.New("the password has a control character (a tab or line break) or is not valid text: use letters, digits, spaces and punctuation")
)

// CheckNewPassword says whether pw may become the password of login, and
// if not, why, in words the console shows. Length is counted in
// characters, not bytes, so a password in Cyrillic is not favoured.
func CheckNewPassword(pw, login string) error {
	switch {
	case len(pw) > MaxPasswordBytes:
		return ErrPasswordTooLong
	case !utf8.ValidString(pw) || strings.ContainsFunc(pw, unicode.IsControl):
		return ErrPasswordBadText
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		return ErrPasswordTooShort
	case strings.EqualFold(strings.TrimSpace(pw), strings.TrimSpace(login)):
		return ErrPasswordIsLogin
	}
	return nil
}

// HashPassword hashes pw with argon2id and a fresh random salt, as a PHC
// string: $argon2id$v=19$m=65536,t=3,p=2$SALT$HASH (unpadded standard
// base64). It refuses only a password CheckPassword would never accept;
// whether pw is a good password is CheckNewPassword's question.
func HashPassword(pw string) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", fmt.Errorf("hashing a password: %w", ErrPasswordTooLong)
	}
	p := defaultParams
	salt := make([]byte, p.saltLen)
	rand.Read(salt) // never fails (crypto/rand since Go 1.24)
	return encodePHC(p, salt, deriveKey(p, pw, salt)), nil
}

func encodePHC(p argonParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", phcPrefix, argonVersion,
		p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether pw is the password phc was made from. It
// reads the parameters from phc, so hashes made with older parameters
// keep working, and refuses (with an error) a hash that is malformed or
// names parameters past the bounds above. The comparison is in constant
// time. A password over MaxPasswordBytes is false without hashing: none
// such is ever stored.
func CheckPassword(phc, pw string) (bool, error) {
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		return false, fmt.Errorf("checking a password: %w", err)
	}
	if len(pw) > MaxPasswordBytes {
		return false, nil
	}
	return subtle.ConstantTimeCompare(deriveKey(p, pw, salt), key) == 1, nil
}

// dummyPHC is a hash with the default parameters that no password
// matches in practice (an all-zero key): DummyCheck hashes against it.
var dummyPHC = encodePHC(defaultParams, make([]byte, defaultParams.saltLen), make([]byte, defaultParams.keyLen))

// DummyCheck costs what CheckPassword costs against a current hash, and
// is what a login calls for a login that does not exist (or a disabled
// account), so the time a reply takes does not tell an attacker which
// logins exist.
func DummyCheck(pw string) {
	_, _ = CheckPassword(dummyPHC, pw)
}

// NeedsRehash reports whether phc should be replaced by HashPassword's
// hash of the same password (which the caller has at a successful login):
// its parameters are not the current ones, or it cannot be read at all.
func NeedsRehash(phc string) bool {
	p, _, _, err := parsePHC(phc)
	return err != nil || p != defaultParams
}

// parsePHC reads an argon2id PHC string, refusing anything malformed or
// out of bounds before any memory is set aside for it.
func parsePHC(phc string) (argonParams, []byte, []byte, error) {
	var p argonParams
	if len(phc) > maxPHCLen {
		return p, nil, nil, fmt.Errorf("the password hash is %d bytes long, more than the %d a hash has", len(phc), maxPHCLen)
	}
	rest, ok := strings.CutPrefix(phc, phcPrefix)
	if !ok {
		return p, nil, nil, errors.New("the password hash is not an argon2id PHC string ($argon2id$...)")
	}
	f := strings.Split(rest, "$")
	if len(f) != 4 {
		return p, nil, nil, errors.New("the password hash does not have the version, parameters, salt and hash fields")
	}
	if f[0] != "v="+strconv.Itoa(argonVersion) {
		return p, nil, nil, fmt.Errorf("the password hash has version %q, not v=%d", f[0], argonVersion)
	}
	if err := parseParams(f[1], &p); err != nil {
		return p, nil, nil, err
	}
	// The base64 decoder skips line breaks; a hash has none (one hash,
	// one spelling).
	if strings.ContainsAny(f[2]+f[3], "\r\n") {
		return p, nil, nil, errors.New("the password hash has a line break in its salt or key")
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(f[2])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, fmt.Errorf("the password hash's salt is not %d to %d bytes of unpadded base64", minSaltLen, maxSaltLen)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(f[3])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, fmt.Errorf("the password hash's key is not %d to %d bytes of unpadded base64", minKeyLen, maxKeyLen)
	}
	p.saltLen, p.keyLen = len(salt), len(key)
	return p, salt, key, nil
}

// parseParams reads "m=M,t=T,p=P" (in that order, as every argon2
// library writes them) and checks the bounds.
func parseParams(s string, p *argonParams) error {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return fmt.Errorf("the password hash's parameters %q are not of the form m=M,t=T,p=P", s)
	}
	var v [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(f[i], name)
		n, err := strconv.ParseUint(digits, 10, 32)
		if !ok || err != nil || digits == "" || digits[0] < '1' || digits[0] > '9' {
			return fmt.Errorf("the password hash's parameters %q are not of the form m=M,t=T,p=P in decimal", s)
		}
		v[i] = n
	}
	m, t, th := v[0], v[1], v[2]
	switch {
	case th > maxThreads:
		return fmt.Errorf("the password hash asks for %d threads, more than %d", th, maxThreads)
	case m < 8*th || m > maxMemoryKiB:
		return fmt.Errorf("the password hash asks for %d KiB of memory, not between %d and %d", m, 8*th, maxMemoryKiB)
	case t > maxTime || m*t > maxCostKiB:
		return fmt.Errorf("the password hash asks for %d passes over %d KiB, more than the server allows", t, m)
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(th)
	return nil
}

// passwordAlphabet: lower-case letters and digits without the look-alikes
// (0/o, 1/l/i), so a password read aloud or from paper is typed right.
const passwordAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// Generated passwords: 4 groups of 6, 24 characters from 31, 118 bits.
const (
	genGroups    = 4
	genGroupLen  = 6
	genAlphabetN = len(passwordAlphabet)
)

// GeneratePassword returns a random password staff can type: four groups
// of six characters from an alphabet without look-alikes, joined by
// hyphens (e.g. "k7m2xq-9fhtw3-pa4ncz-e8rdvy"), about 118 bits.
func GeneratePassword() string {
	var b strings.Builder
	var buf [64]byte
	n := 0
	for n < genGroups*genGroupLen {
		rand.Read(buf[:]) // never fails (crypto/rand since Go 1.24)
		for _, c := range buf {
			// Rejection keeps every character equally likely: 248 is
			// the largest multiple of 31 in a byte.
			if int(c) >= 256-256%genAlphabetN || n == genGroups*genGroupLen {
				continue
			}
			if n > 0 && n%genGroupLen == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(passwordAlphabet[int(c)%genAlphabetN])
			n++
		}
	}
	return b.String()
}
