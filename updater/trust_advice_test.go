package updater

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/i18n"
)

// A trust file aktual cannot use is refused with its reason and the
// advice, once, in the reader's language.
func TestTrustFileRefusedOnceInBulgarian(t *testing.T) {
	named := filepath.Join(t.TempDir(), "trust.json")
	if err := os.WriteFile(named, []byte(`{"version":1,"release_keys":[],"online_keys":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadTrust(named, t.TempDir(), "")
	if err == nil {
		t.Fatal("a version-1 trust file was read")
	}
	for _, tc := range []struct{ lang, reason, advice string }{
		{"en", "trust file version 1 (from an aktuald without root keys) is no longer read", "get a fresh trust.json from your vendor"},
		{"bg", "файлът за доверие е версия 1 (от aktuald без основни ключове), която вече не се чете", "вземете нов trust.json от доставчика"},
	} {
		tag := i18n.English
		if tc.lang == "bg" {
			tag = i18n.Bulgarian
		}
		got := i18n.NewPrinter(tag).Sprint(err)
		if want := named + ": " + tc.reason + "; " + tc.advice; got != want {
			t.Errorf("%s: %q\nwant %q", tc.lang, got, want)
		}
		if n := strings.Count(strings.TrimPrefix(got, named), "trust.json"); n != 1 {
			t.Errorf("%s: %q names trust.json %d times: the advice is given twice", tc.lang, got, n)
		}
	}
}
