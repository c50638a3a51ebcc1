package api_test

import (
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
)

func TestMaskCode(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"update code", "12340-56781-23450-67891-98765", "*****-*****-*****-*****-98765"},
		{"typed with spaces", "12340 56781 23450 67891 98765", "*****-*****-*****-*****-98765"},
		{"typed without separators", "1234056781234506789198765", "*****-*****-*****-*****-98765"},
		{"a mistyped check digit still masks", "12341-56781-23450-67891-98765", "*****-*****-*****-*****-98765"},
		{"Internet code", "123-456-789", "***-***-***"},
		{"Internet code without separators", "123456789", "***-***-***"},
		{"a digit short", "12340-56781-23450-67891-9876", "*****-*****-*****-*****-****"},
		{"a digit too many", "12340-56781-23450-67891-987654", "*****-*****-*****-*****-*****-*"},
		{"letters are dropped, not echoed", "O1234-secret\n-level=ERROR", "****"},
		{"no digits", "password", ""},
		{"empty", "", ""},
		{"far too long", strings.Repeat("1", 10_000), strings.TrimSuffix(strings.Repeat("*****-", 40), "-")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := api.MaskCode(tc.in); got != tc.want {
				t.Errorf("MaskCode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestMaskCodeHidesAllButTheLastGroup: for fresh codes the mask is the
// code's own Masked form and shows exactly five digits, the last group.
func TestMaskCodeHidesAllButTheLastGroup(t *testing.T) {
	for range 200 {
		c, err := api.NewCode()
		if err != nil {
			t.Fatal(err)
		}
		for _, typed := range []string{c.String(), string(c)} {
			m := api.MaskCode(typed)
			if m != c.Masked() {
				t.Fatalf("MaskCode(%s) = %s, want %s", typed, m, c.Masked())
			}
			if shown := strings.Trim(m, "*-"); shown != c.LastGroup() {
				t.Fatalf("MaskCode(%s) = %s shows %q, want only the last group %s", typed, m, shown, c.LastGroup())
			}
		}
	}
}
