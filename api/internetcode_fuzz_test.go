package api

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseInternetCode holds ParseInternetCode to the promises the
// classic page makes: what it accepts is nine digits whose check digit
// matches, shown grouped and read back unchanged; every code the server
// derives is accepted; and a single mistyped digit, or two neighbours
// swapped, is caught before any network call.
func FuzzParseInternetCode(f *testing.F) {
	derived := DeriveInternetCode([]byte("secret"), "s_abc")
	for _, seed := range []struct{ typed, session string }{
		{derived.String(), "s_abc"},
		{string(derived), ""},
		{"572-400-004", "s_x"},
		{" 123 456 789 ", "s_aaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{"123–456—789", ""},                                              // en and em dashes
		{"123\u00a0456\t789", ""},                                        // no-break space, tab
		{"\uff11\uff12\uff13-\uff14\uff15\uff16-\uff17\uff18\uff19", ""}, // fullwidth digits: they look right and are refused
		{"12-345-678", ""},
		{"1234-567-890", ""},
		{"", ""},
		{"---", ""},
		{"123/456/789", ""},
		{strings.Repeat("0", 201), ""},
		{"\xff\xfe123456789", ""},
	} {
		f.Add(seed.typed, seed.session)
	}
	f.Fuzz(func(t *testing.T, typed, session string) {
		code, err := ParseInternetCode(typed)
		if err != nil {
			var ce *CodeError
			if !errors.As(err, &ce) || !errors.Is(err, ErrMalformedCode) || ce.Reason == "" {
				t.Fatalf("ParseInternetCode(%q) error %v is not a *CodeError wrapping ErrMalformedCode", typed, err)
			}
		} else {
			checkInternetCode(t, typed, code)
		}

		// The server derives a session's code with its secret: whatever the
		// session and the secret, the code parses as itself.
		d := DeriveInternetCode([]byte(typed), session)
		checkInternetCode(t, "derived from "+session, d)
		back, err := ParseInternetCode(d.String())
		if err != nil || back != d {
			t.Fatalf("derived code %s parses as %q, %v", d, back, err)
		}
	})
}

// checkInternetCode requires code, accepted from typed, to be canonical and
// to refuse each single-digit change and each swap of neighbours.
func checkInternetCode(t *testing.T, typed string, code InternetCode) {
	t.Helper()
	s := string(code)
	if len(s) != InternetCodeDigits || strings.Trim(s, "0123456789") != "" {
		t.Fatalf("%q gave code %q, not %d digits", typed, s, InternetCodeDigits)
	}
	if !DammValid(s) {
		t.Fatalf("%q gave code %s whose check digit does not match", typed, s)
	}
	for _, shown := range []string{code.String(), s} {
		again, err := ParseInternetCode(shown)
		if err != nil || again != code {
			t.Fatalf("code %s shown as %q parses as %q, %v", s, shown, again, err)
		}
	}
	if g := code.String(); len(g) != 11 || g[3] != '-' || g[7] != '-' {
		t.Fatalf("code %s is shown as %q, want ###-###-###", s, g)
	}
	for i := range len(s) {
		for d := byte('0'); d <= '9'; d++ {
			if d == s[i] {
				continue
			}
			typo := []byte(s)
			typo[i] = d
			if got, err := ParseInternetCode(string(typo)); err == nil {
				t.Fatalf("code %s with digit %d changed to %c (%s) is accepted as %s", s, i+1, d, typo, got)
			}
		}
		if i+1 < len(s) && s[i] != s[i+1] {
			swap := []byte(s)
			swap[i], swap[i+1] = swap[i+1], swap[i]
			if got, err := ParseInternetCode(string(swap)); err == nil {
				t.Fatalf("code %s with digits %d and %d swapped (%s) is accepted as %s", s, i+1, i+2, swap, got)
			}
		}
	}
}
