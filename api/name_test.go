package api

import (
	"regexp"
	"strings"
	"testing"
)

// nameRE is the definition ValidName implements.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"ledger", true},
		{"Ledger-Pro_2.x", true},
		{"0", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{".hidden", false},
		{"-flag", false},
		{"_x", false},
		{"a b", false},
		{"a/b", false},
		{"a\n", false},
		{"ledger\x00", false},
		{"леджър", false},
		{"a%2e", false},
	} {
		if got := ValidName(tc.s); got != tc.want {
			t.Errorf("ValidName(%q) = %v, want %v", tc.s, got, tc.want)
		}
		if got := nameRE.MatchString(tc.s); got != tc.want {
			t.Errorf("the definition disagrees with the table on %q", tc.s)
		}
	}
}

// FuzzValidName checks ValidName against its regular expression.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"ledger", "", ".x", strings.Repeat("z", 128), strings.Repeat("z", 129), "a\u00e9", "a-._9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidName(s), nameRE.MatchString(s); got != want {
			t.Fatalf("ValidName(%q) = %v, the regular expression says %v", s, got, want)
		}
	})
}
