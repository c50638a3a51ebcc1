package page

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/i18n"
)

// TestPageTextsComplete: the page says everything in every language; a
// phrase missing from a catalog would show in English.
func TestPageTextsComplete(t *testing.T) {
	en := reflect.ValueOf(NewText(i18n.NewPrinter(i18n.English)))
	for _, tag := range i18n.Supported {
		v := reflect.ValueOf(NewText(i18n.NewPrinter(tag)))
		for i := range v.NumField() {
			name, text := v.Type().Field(i).Name, v.Field(i).String()
			if strings.TrimSpace(text) == "" {
				t.Errorf("%v: page.Text.%s is empty", tag, name)
			}
			if tag != i18n.English && text == en.Field(i).String() {
				t.Errorf("%v: page.Text.%s is not translated: %q", tag, name, text)
			}
		}
	}
}

// TestLanguage: ?lang= wins over Accept-Language when the page speaks
// it; a language it does not speak is ignored, not taken for English.
func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		query, accept, want, chosen string
	}{
		{"", "bg", "bg", ""},
		{"lang=en", "bg", "en", "en"},
		{"lang=bg", "en", "bg", "bg"},
		{"lang=fr", "bg", "bg", ""},
		{"", "fr, bg;q=0.5", "bg", ""},
		{"", "", "en", ""},
	} {
		r := httptest.NewRequest("GET", "/classic/s_x?"+tc.query, nil)
		r.Header.Set("Accept-Language", tc.accept)
		p, chosen := Language(r)
		if p.Lang().String() != tc.want || chosen != tc.chosen {
			t.Errorf("?%s with Accept-Language %q: %v (chosen %q), want %s (chosen %q)", tc.query, tc.accept, p.Lang(), chosen, tc.want, tc.chosen)
		}
	}
}

// TestRender: the page's headers forbid framing and
// scripts, and it is never cached (it shows a one-time code).
func TestRender(t *testing.T) {
	w := httptest.NewRecorder()
	p := i18n.NewPrinter(i18n.Bulgarian)
	if err := Render(w, 200, Data{Lang: "bg", T: NewText(p), Known: true, Code: "123456", Spoken: "1 2 3 4 5 6"}); err != nil {
		t.Fatal(err)
	}
	h := w.Header()
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Content-Language": "bg"} {
		if h.Get(k) != want {
			t.Errorf("%s: %q, want %q", k, h.Get(k), want)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q does not forbid scripts", h.Get("Content-Security-Policy"))
	}
	if !strings.Contains(w.Body.String(), "123456") || !strings.Contains(w.Body.String(), NewText(p).Heading) {
		t.Errorf("the page does not show the code in Bulgarian:\n%s", w.Body.String())
	}
}
