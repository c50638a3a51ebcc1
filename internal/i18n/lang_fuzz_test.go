package i18n

import "testing"

// A locale variable or --lang holds anything: it always gives one of the
// languages aktual speaks, and a readable choice of it is kept.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "C", "POSIX", "bg_BG.UTF-8", "bg", "en_US@euro", "български", "fr-CA", "x-klingon", "zz_ZZ.ISO-8859-1", "bg-Latn-BG"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, _ := Parse(s)
		if tag != English && tag != Bulgarian {
			t.Fatalf("Parse(%q) = %v: not a language aktual speaks", s, tag)
		}
		if Match(tag) != tag {
			t.Fatalf("Match(%v) = %v", tag, Match(tag))
		}
	})
}
