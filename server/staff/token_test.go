package staff

import (
	"bytes"
	"crypto/sha256"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

func TestNewToken(t *testing.T) {
	form := regexp.MustCompile(`^akt_[a-z2-7]{58}$`)
	seen := map[string]bool{}
	for range 100 {
		tok, hash := NewToken()
		if !form.MatchString(tok) || len(tok) != TokenLen {
			t.Fatalf("NewToken = %q, not akt_ and 58 base32 characters", tok)
		}
		if want := sha256.Sum256([]byte(tok)); !bytes.Equal(hash, want[:]) || !bytes.Equal(HashToken(tok), hash) {
			t.Fatalf("NewToken's hash is not HashToken's, the SHA-256 of the token")
		}
		if !ValidToken(tok) {
			t.Fatalf("ValidToken(%q) = false for a new token", tok)
		}
		if seen[tok] {
			t.Fatalf("NewToken repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestValidToken(t *testing.T) {
	tok, _ := NewToken()
	enc := tok[len(TokenPrefix):]
	flip := func(i int) string { // one character changed: the checksum sees it
		b := []byte(tok)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for _, bad := range []string{
		"",
		enc,          // no prefix
		"AKT_" + enc, // prefix in another case
		"akt_" + strings.ToUpper(enc),
		tok[:len(tok)-1],
		tok + "a",
		flip(len(TokenPrefix)),
		flip(len(TokenPrefix) + 20),
		tok[:20] + "\n" + tok[21:],
		tok[:20] + "=" + tok[21:],
		"akt_" + strings.Repeat("a", 58), // the right form, a wrong checksum
	} {
		if ValidToken(bad) {
			t.Errorf("ValidToken(%q) = true", bad)
		}
	}
	// The last character carries 3 of 5 bits; another spelling of the
	// same bytes (unused bits set) is refused: one token, one spelling.
	last := strings.IndexByte(b32Alphabet, tok[len(tok)-1])
	for low := 1; low < 4; low++ {
		other := tok[:len(tok)-1] + string(b32Alphabet[last|low])
		if other != tok && ValidToken(other) {
			t.Errorf("ValidToken accepts %q, another spelling of %q", other, tok)
		}
	}
}

const b32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

func TestSessionID(t *testing.T) {
	id, hash := NewSessionID()
	if !regexp.MustCompile(`^[a-z2-7]{52}$`).MatchString(id) || len(id) != SessionIDLen {
		t.Errorf("NewSessionID = %q", id)
	}
	if want := sha256.Sum256([]byte(id)); !bytes.Equal(hash, want[:]) || !bytes.Equal(HashSessionID(id), hash) {
		t.Errorf("NewSessionID's hash is not the SHA-256 of the ID")
	}
	if !ValidSessionID(id) {
		t.Errorf("ValidSessionID(%q) = false", id)
	}
	if id2, _ := NewSessionID(); id2 == id {
		t.Errorf("two session IDs are equal")
	}
	tok, _ := NewToken()
	for _, bad := range []string{"", id[:51], id + "a", strings.ToUpper(id), id[:10] + "\n" + id[11:], id[:51] + "1", tok} {
		if ValidSessionID(bad) {
			t.Errorf("ValidSessionID(%q) = true", bad)
		}
	}
}

func TestCSRF(t *testing.T) {
	a, b := NewCSRF(), NewCSRF()
	if len(a) != 43 || a == b || !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(a) {
		t.Errorf("NewCSRF = %q, %q", a, b)
	}
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{a, a, true},
		{a, b, false},
		{a, a[:42], false},
		{a, "", false},
		{"", "", false}, // a session without a value never matches
	} {
		if got := CheckCSRF(tc.want, tc.got); got != tc.ok {
			t.Errorf("CheckCSRF(%q, %q) = %v", tc.want, tc.got, got)
		}
	}
}

func TestParseBearer(t *testing.T) {
	tok, _ := NewToken()
	for _, tc := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer " + tok, tok, true},
		{"bearer " + tok, tok, true},
		{"BEARER " + tok, tok, true},
		{"BeArEr " + tok, tok, true},
		{"Bearer   " + tok, tok, true},      // RFC 6750: 1*SP
		{" Bearer " + tok + " ", tok, true}, // optional whitespace around a field value
		{"Bearer abc-._~+/xyz==", "abc-._~+/xyz==", true},
		{"Bearer " + strings.Repeat("a", maxAuthorization-7), strings.Repeat("a", maxAuthorization-7), true},
		{"Bearer " + strings.Repeat("a", maxAuthorization-6), "", false}, // over the bound
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer    ", "", false},
		{"Bearer\t" + tok, "", false},
		{"Bearer" + tok, "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Token " + tok, "", false},
		{"Bearers " + tok, "", false},
		{tok, "", false},
		{"Bearer " + tok + " extra", "", false},
		{"Bearer " + tok[:10] + "\t" + tok[10:], "", false},
		{"Bearer " + tok[:10] + "\x00" + tok[10:], "", false},
		{"Bearer " + tok[:10] + "\n" + tok[10:], "", false},
		{"Bearer " + tok[:10] + "\x7f" + tok[10:], "", false},
		{"Bearer " + tok[:10] + "é" + tok[10:], "", false},
		{"Bearer ===", "", false},
		{"Bearer a=b", "", false}, // '=' only at the end
		{"Bearer " + tok + ",", "", false},
		{"Bearer \"" + tok + "\"", "", false},
	} {
		got, ok := ParseBearer(tc.header)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseBearer(%.80q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseBearer: never a panic; a token found is non-empty, bounded,
// token68 only (no whitespace or control characters), and is what
// follows the scheme in the header.
func FuzzParseBearer(f *testing.F) {
	tok, _ := NewToken()
	for _, s := range []string{
		"Bearer " + tok, "bearer x", "Bearer", "Bearer ", "", " ", "Basic abc", "Bearer a=b",
		"Bearer ====", "Bearer\x00x", "BEARER  x  ", "Bearer é", strings.Repeat("Bearer ", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := ParseBearer(header)
		if !ok {
			if tok != "" {
				t.Fatalf("ParseBearer(%q) = %q, false: a token with a refusal", header, tok)
			}
			return
		}
		if tok == "" || len(tok) > maxAuthorization || !strings.HasSuffix(strings.TrimRight(header, " \t"), tok) {
			t.Fatalf("ParseBearer(%q) = %q", header, tok)
		}
		if strings.ContainsFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r > 0x7e }) {
			t.Fatalf("ParseBearer(%q) = %q, with whitespace, a control or non-ASCII character", header, tok)
		}
		if !strings.EqualFold(strings.TrimLeft(header, " \t")[:6], "bearer") {
			t.Fatalf("ParseBearer(%q) took a header of another scheme", header)
		}
	})
}
