package i18n

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/text/language"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		explicit string
		env      map[string]string
		want     language.Tag
		wantErr  bool
	}{
		{"", nil, English, false},
		{"", map[string]string{"LANG": "bg_BG.UTF-8"}, Bulgarian, false},
		{"", map[string]string{"LANG": "bg_BG"}, Bulgarian, false},
		{"", map[string]string{"LANG": "bg"}, Bulgarian, false},
		{"", map[string]string{"LANG": "en_GB.UTF-8"}, English, false},
		{"", map[string]string{"LANG": "de_DE.UTF-8"}, English, false}, // not spoken: English
		{"", map[string]string{"LANG": "bg_BG.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, English, false},
		{"", map[string]string{"LANG": "en_US.UTF-8", "LC_MESSAGES": "bg_BG.UTF-8"}, Bulgarian, false},
		{"", map[string]string{"LC_MESSAGES": "bg_BG.UTF-8", "LC_ALL": "C"}, English, false}, // LC_ALL wins, even C
		{"", map[string]string{"LC_ALL": "bg_BG.utf8@euro"}, Bulgarian, false},
		{"en", map[string]string{"LANG": "bg_BG.UTF-8"}, English, false},
		{"bg", nil, Bulgarian, false},
		{"BG", nil, Bulgarian, false},
		{"bg-BG", nil, Bulgarian, false},
		{"български", nil, Bulgarian, false},
		{"klingon", nil, English, true},
		{"C", nil, English, true},
	} {
		got, err := Detect(tc.explicit, func(k string) string { return tc.env[k] })
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Detect(%q, %v) = %v, %v; want %v, error %v", tc.explicit, tc.env, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPrinterTranslatesAndFallsBack(t *testing.T) {
	bg := NewPrinter(Bulgarian)
	if got := bg.Sprintf("installing %s %s", "ledger", "2.0.0"); got != "инсталиране на ledger 2.0.0" {
		t.Errorf("bg = %q", got)
	}
	en := NewPrinter(English)
	if got := en.Sprintf("installing %s %s", "ledger", "2.0.0"); got != "installing ledger 2.0.0" {
		t.Errorf("en = %q", got)
	}
	// A key without a translation falls back to English, formatted.
	if got := bg.Sprintf("no such key %d", 7); got != "no such key 7" {
		t.Errorf("fallback = %q", got)
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		lang   language.Tag
		format string
		n      int
		want   string
	}{
		{Bulgarian, "%d bytes", 1, "1 байт"},
		{Bulgarian, "%d bytes", 2, "2 байта"},
		{Bulgarian, "%d bytes", 0, "0 байта"},
		{Bulgarian, "%d seconds", 1, "1 секунда"},
		{Bulgarian, "%d seconds", 21, "21 секунди"},
		{English, "%d seconds", 1, "1 second"},
		{English, "%d seconds", 0, "0 seconds"},
		{English, "%d bytes", 1, "1 byte"},
		{English, "%d bytes", 1024, "1,024 bytes"}, // numbers are grouped as the language does
	}
	for _, tt := range tests {
		if got := NewPrinter(tt.lang).Sprintf(tt.format, tt.n); got != tt.want {
			t.Errorf("%v %q %d: %q, want %q", tt.lang, tt.format, tt.n, got, tt.want)
		}
	}
}

// Messages nested in errors, and system causes, are rendered in the
// printer's language; Error() stays English.
func TestErrorsAreLocalisedThroughout(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	inner := Errorf("cannot reach the update server at %s (%v); check your Internet connection, or run: aktual netcheck --server %s", "http://x", refused, "http://x")
	outer := fmt.Errorf("wrapped: %w", inner)
	bg := NewPrinter(Bulgarian)
	got := bg.Sprint(inner)
	want := "сървърът за обновявания на http://x е недостъпен (връзката беше отказана (нищо не отговаря на този порт или защитна стена я отказва)); проверете интернет връзката си или изпълнете: aktual netcheck --server http://x"
	if got != want {
		t.Errorf("bg:\n got %q\nwant %q", got, want)
	}
	if en := inner.Error(); en != "cannot reach the update server at http://x (dial tcp: connect: connection refused); check your Internet connection, or run: aktual netcheck --server http://x" {
		t.Errorf("Error() = %q", en)
	}
	// A plain wrapper adds text of its own: it is kept as Go wrote it.
	if got := bg.Sprint(outer); got != outer.Error() {
		t.Errorf("plain wrapper = %q", got)
	}
	if !errors.Is(outer, inner) {
		t.Error("the cause is lost")
	}
}

func TestErrorfWrapsLikeFmt(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	err := Errorf("%w: the licence is too large", a)
	if !errors.Is(err, a) || err.Error() != "a: the licence is too large" {
		t.Errorf("one %%w: %v", err)
	}
	err = Errorf("%w and %w", a, b)
	if !errors.Is(err, a) || !errors.Is(err, b) {
		t.Error("two %w: a cause is lost")
	}
	if got := NewPrinter(Bulgarian).Sprint(Errorf("%w: the licence is too large", Errorf("hardware-key licence is malformed"))); got != "лицензът на хардуерния ключ е повреден: лицензът е твърде голям" {
		t.Errorf("bg %%w = %q", got)
	}
}

// TestEnglishShortcutSaysWhatTheCatalogSays holds Sprintf's shortcut for
// English text with nothing to format to what x/text's printer says for
// the same key: every key of every catalog, English's plural forms too.
func TestEnglishShortcutSaysWhatTheCatalogSays(t *testing.T) {
	cats, err := readCatalogs(locales)
	if err != nil {
		t.Fatal(err)
	}
	en := NewPrinter(English)
	n := 0
	for _, entries := range cats {
		for key := range entries {
			var args []any
			for i := range strings.Count(key, "%s") {
				args = append(args, fmt.Sprintf("a%d-%%", i))
			}
			if !plainEnglish(key, args) {
				continue
			}
			if got, want := en.Sprintf(key, args...), en.printer().Sprintf(noWrap(key), args...); got != want {
				t.Errorf("%q: the shortcut says %q, the catalog %q", key, got, want)
			}
			n++
		}
	}
	for _, f := range []string{"%d", "%v", "%5s", "100%", "%[x]s", "%[1]d"} {
		if plainEnglish(f, []any{"x"}) {
			t.Errorf("%q taken for plain", f)
		}
	}
	if plainEnglish("%s", []any{7}) {
		t.Error("a number taken for plain")
	}
	// An argument left over: fmt says so, x/text does not.
	for _, f := range []string{"no verbs", "100%%", "%s"} {
		if plainEnglish(f, []any{"x", "y"}) {
			t.Errorf("%q with an argument left over taken for plain", f)
		}
		if got, want := en.Sprintf(f, "x", "y"), en.printer().Sprintf(f, "x", "y"); got != want {
			t.Errorf("%q, x, y: %q, the catalog %q", f, got, want)
		}
	}
	if n < 100 {
		t.Fatalf("only %d keys read: the test checks nothing", n)
	}
}
