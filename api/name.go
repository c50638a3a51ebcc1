package api

// MaxNameLen is the longest product name, platform name, serial or
// idempotency key.
const MaxNameLen = 128

// ValidName reports whether s is a name the protocol accepts: 1 to 128
// characters, ASCII letters and digits, '.', '_' and '-', starting with a
// letter or digit. Product names, platform names, hardware-key serials
// and idempotency keys all have this shape; it is safe in a URL path, a
// file name and a log line as it is.
//
// It is the regular expression ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ written
// out: compiling that (the bounded repeat unrolls) cost every program that
// linked it about a quarter of a millisecond at start-up.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
