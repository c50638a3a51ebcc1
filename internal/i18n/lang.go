package i18n

import (
	"strings"
	"sync"

	"golang.org/x/text/language"
)

// matcher is built on first use, not at start-up (docs/benchmarks.md).
var matcher = sync.OnceValue(func() language.Matcher { return language.NewMatcher(Supported) })

// Match returns the supported language closest to tag; English when none
// is close.
func Match(tag language.Tag) language.Tag {
	if tag == English || tag == Bulgarian {
		return tag // the common cases, without the matcher
	}
	_, i, conf := matcher().Match(tag)
	if conf == language.No {
		return English
	}
	return Supported[i]
}

// Parse reads a language as a person or a locale variable writes it:
// "bg", "bg-BG", "bg_BG.UTF-8", "en_US.UTF-8@euro", "Bulgarian". ok is
// false for an empty value and for "C" and "POSIX", which name no language.
func Parse(s string) (tag language.Tag, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i]
	}
	switch strings.ToLower(s) {
	case "", "c", "posix":
		return English, false
	case "bulgarian", "български":
		return Bulgarian, true
	case "english":
		return English, true
	}
	t, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil {
		return English, false
	}
	return Match(t), true
}

// Detect picks the language: the explicit choice (a --lang flag) first,
// then LC_ALL, LC_MESSAGES and LANG as POSIX orders them, then the
// system's own setting (Windows), else English. It returns an error only
// for an explicit choice it cannot read.
func Detect(explicit string, getenv func(string) string) (language.Tag, error) {
	if explicit != "" {
		t, ok := Parse(explicit)
		if !ok {
			return English, Errorf("--lang %q is not a language aktual speaks; use bg or en", explicit)
		}
		return t, nil
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := getenv(v); s != "" {
			// The first one set decides, even "C": that is its meaning.
			t, _ := Parse(s)
			return t, nil
		}
	}
	if t, ok := systemLanguage(); ok {
		return t, nil
	}
	return English, nil
}

// AcceptLanguage is the language of an HTTP Accept-Language header that
// the messages are translated into, by the client's order of preference;
// English when it names none ("fr, bg;q=0.5" is Bulgarian).
func AcceptLanguage(header string) language.Tag {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return English
	}
	if _, i, conf := matcher().Match(tags...); conf != language.No {
		return Supported[i]
	}
	return English
}

// Supports returns the supported language closest to tag, and false when it
// names a language the messages are not translated into (it is then not
// taken for English).
func Supports(tag language.Tag) (language.Tag, bool) {
	if _, i, conf := matcher().Match(tag); conf != language.No {
		return Supported[i], true
	}
	return English, false
}
