package api

import (
	"errors"
	"strings"
	"testing"
)

// A code built from known groups: 1234→check, etc.
func codeFromGroups(groups ...string) string {
	var parts []string
	for _, g := range groups {
		parts = append(parts, g+string(DammCheckDigit(g)))
	}
	return strings.Join(parts, "-")
}

func TestDammKnownValue(t *testing.T) {
	// The worked example of the Damm algorithm: 572 → check digit 4.
	if got := DammCheckDigit("572"); got != '4' {
		t.Fatalf("DammCheckDigit(572) = %c, want 4", got)
	}
	if !DammValid("5724") || DammValid("5723") {
		t.Fatal("DammValid disagrees with the worked example")
	}
}

// Every single-digit error and every adjacent transposition of every
// 5-digit group is caught: the promise the code format makes.
func TestDammCatchesEverySingleErrorAndTransposition(t *testing.T) {
	for n := 0; n < 10000; n++ {
		body := []byte{byte('0' + n/1000), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)}
		group := append(body, DammCheckDigit(string(body)))
		for i := range group {
			for d := byte('0'); d <= '9'; d++ {
				if d == group[i] {
					continue
				}
				typo := append([]byte(nil), group...)
				typo[i] = d
				if DammValid(string(typo)) {
					t.Fatalf("single-digit error %s → %s not caught", group, typo)
				}
			}
			if i+1 < len(group) && group[i] != group[i+1] {
				swap := append([]byte(nil), group...)
				swap[i], swap[i+1] = swap[i+1], swap[i]
				if DammValid(string(swap)) {
					t.Fatalf("transposition %s → %s not caught", group, swap)
				}
			}
		}
	}
}

func TestParseCode(t *testing.T) {
	good := codeFromGroups("1234", "5678", "9012", "3456", "7890")
	digits := strings.ReplaceAll(good, "-", "")
	tests := []struct {
		name      string
		in        string
		wantGroup int // 0: valid, -1: error without a group
	}{
		{"dashes", good, 0},
		{"spaces", strings.ReplaceAll(good, "-", " "), 0},
		{"none", digits, 0},
		{"surrounding space", "  " + good + "\n", 0},
		{"mixed separators", digits[:5] + " - " + digits[5:10] + "\t" + digits[10:], 0},
		{"first group typo", "9" + digits[1:], 1},
		{"third group typo", digits[:12] + string('0'+(digits[12]-'0'+1)%10) + digits[13:], 3},
		{"fifth group transposed", digits[:20] + string(digits[21]) + string(digits[20]) + digits[22:], 5},
		{"too short", digits[:24], -1},
		{"too long", digits + "1", -1},
		{"letter", strings.Replace(good, "1", "l", 1), -1},
		{"empty", "", -1},
		{"huge", strings.Repeat("1", 10000), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := ParseCode(tt.in)
			if tt.wantGroup == 0 {
				if err != nil {
					t.Fatalf("ParseCode(%q): %v", tt.in, err)
				}
				if string(code) != digits || code.String() != good {
					t.Fatalf("ParseCode(%q) = %s", tt.in, code)
				}
				return
			}
			var ce *CodeError
			if !errors.As(err, &ce) || !errors.Is(err, ErrMalformedCode) {
				t.Fatalf("ParseCode(%q) error = %v, want a *CodeError", tt.in, err)
			}
			if tt.wantGroup > 0 {
				if ce.Group != tt.wantGroup {
					t.Fatalf("group = %d, want %d (%v)", ce.Group, tt.wantGroup, err)
				}
				if !strings.Contains(err.Error(), Ordinal(tt.wantGroup)+" group") {
					t.Fatalf("message %q does not name the %s group", err, Ordinal(tt.wantGroup))
				}
			}
		})
	}
}

func TestNewCodeRoundTrips(t *testing.T) {
	seen := map[UpdateCode]bool{}
	for range 1000 {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if seen[c] {
			t.Fatalf("NewCode repeated %s", c)
		}
		seen[c] = true
		back, err := ParseCode(c.String())
		if err != nil || back != c {
			t.Fatalf("ParseCode(%s) = %s, %v", c, back, err)
		}
		// Only the last group shows (the first may equal it by chance).
		if m := c.Masked(); !strings.HasSuffix(m, c.LastGroup()) || strings.Trim(strings.TrimSuffix(m, c.LastGroup()), "*-") != "" {
			t.Fatalf("Masked(%s) = %s", c, c.Masked())
		}
	}
}

func FuzzParseCode(f *testing.F) {
	f.Add("12340-56785-90128-34566-78909")
	f.Add(codeFromGroups("1234", "5678", "9012", "3456", "7890"))
	f.Add("1 2 3 4 5")
	f.Add("")
	f.Add("--------")
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseCode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedCode) {
				t.Fatalf("error %v is not ErrMalformedCode", err)
			}
			return
		}
		if len(code) != CodeDigits {
			t.Fatalf("accepted %q as %q", s, code)
		}
		again, err := ParseCode(code.String())
		if err != nil || again != code {
			t.Fatalf("round trip of %q failed: %v", code, err)
		}
	})
}
