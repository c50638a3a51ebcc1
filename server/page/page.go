// Package page owns the Internet-code page a classic-series customer opens
// in the browser: its template, its phrases in each language, and how it is
// rendered.
package page

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"sync"

	"golang.org/x/text/language"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/internal/mdtext"
)

//go:embed page.html
var pageHTML string

// pageTemplate is parsed on first use, not at start-up: a server command
// that never shows the page does not pay for the parse.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

// Text is every phrase of the Internet-code page, in one language.
type Text struct {
	Title, Heading, Product, Installed, NewVersion, HWKey, Remaining string
	CopyCode, CodeLabel, Validity, OrContinue, Continue, Continued   string
	// Problems: what is wrong, and what to do.
	NotFound, NotFoundDo, Expired, ExpiredDo, Used, UsedDo, Locked, LockedDo string
	NotEnabled, NotEnabledDo, Exhausted, ExhaustedDo                         string
	WhatIsNew                                                                string
}

// NewText renders the page's phrases in p's language. The English
// texts are the catalog keys (translations: internal/i18n/locales/<lang>/page.json).
func NewText(p *i18n.Printer) Text {
	return Text{
		Title:        p.Sprintf("Internet code"),
		Heading:      p.Sprintf("Internet code for your update"),
		Product:      p.Sprintf("Product"),
		Installed:    p.Sprintf("Installed version"),
		NewVersion:   p.Sprintf("New version"),
		HWKey:        p.Sprintf("Hardware key"),
		Remaining:    p.Sprintf("Updates remaining"),
		WhatIsNew:    p.Sprintf("What is new in this version"),
		CopyCode:     p.Sprintf("Type this code into the installer, exactly as shown:"),
		CodeLabel:    p.Sprintf("Internet code"),
		Validity:     p.Sprintf("The code is valid for 15 minutes, for this update on this computer only."),
		OrContinue:   p.Sprintf("Or, if the installer is running on this computer, press the button: the installer then continues by itself and nothing needs to be typed."),
		Continue:     p.Sprintf("Continue the update"),
		Continued:    p.Sprintf("Done: the installer continues by itself. You can close this page."),
		NotFound:     p.Sprintf("This link is not valid."),
		NotFoundDo:   p.Sprintf("Start the update again in the installer; it opens a new page."),
		Expired:      p.Sprintf("This page has expired."),
		ExpiredDo:    p.Sprintf("Internet codes are valid for 15 minutes. Start the update again in the installer to get a new code."),
		Used:         p.Sprintf("This Internet code has already been used."),
		UsedDo:       p.Sprintf("The update is continuing in the installer. To update again, start the installer again."),
		Locked:       p.Sprintf("Too many wrong codes were typed."),
		LockedDo:     p.Sprintf("Start the update again in the installer to get a new code."),
		NotEnabled:   p.Sprintf("Site access is not enabled for this hardware key."),
		NotEnabledDo: p.Sprintf("Ask your vendor or regional distributor to activate updates for this key, then start the update again."),
		Exhausted:    p.Sprintf("No paid updates remain for this hardware key."),
		ExhaustedDo:  p.Sprintf("Buy more updates from your vendor or regional distributor, then start the update again."),
	}
}

// Language picks the page's language: ?lang=bg or ?lang=en (the
// installer opens the page in its own language) before Accept-Language.
// chosen is the language the query chose, "" for none: the Continue form
// carries it through its post and redirect.
func Language(r *http.Request) (p *i18n.Printer, chosen string) {
	tag := i18n.AcceptLanguage(r.Header.Get("Accept-Language"))
	// A language the page does not speak is ignored, not taken for English.
	if q, err := language.Parse(r.URL.Query().Get("lang")); err == nil {
		if t, ok := i18n.Supports(q); ok {
			tag, chosen = t, t.String()
		}
	}
	return i18n.NewPrinter(tag), chosen
}

// Data is what one rendering of the page shows.
type Data struct {
	Lang              string
	ChosenLang        string // "bg" when the page's URL chose it (?lang=bg)
	T                 Text
	Known             bool
	Session           string
	Product, From, To string
	Serial            string
	HasRemaining      bool
	Remaining         int64
	Problem, Remedy   string
	Code, Spoken      string
	Confirmed         bool
	CSRF              string
	// Notes are the new version's release notes (in the page's language,
	// else the other), as blocks of plain text: the template escapes them.
	Notes []mdtext.Block
}

// Render answers with the page, or returns the error that kept the
// template from rendering, having written nothing.
func Render(w http.ResponseWriter, status int, d Data) error {
	var buf bytes.Buffer
	if err := pageTemplate().Execute(&buf, d); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", d.Lang)
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	// A failed write is a browser that went away: there is nobody left to
	// tell, and the request log has the answer's size.
	_, _ = w.Write(buf.Bytes())
	return nil
}

// LangQuery is the query that keeps a chosen language ("" for none).
func LangQuery(chosen string) string {
	if chosen == "" {
		return ""
	}
	return "?" + url.Values{"lang": {chosen}}.Encode()
}

// TextError answers the Continue form with plain text in the page's
// language.
func TextError(w http.ResponseWriter, p *i18n.Printer, status int, msg i18n.Message) {
	w.Header().Set("Content-Language", p.Lang().String())
	http.Error(w, p.Sprint(msg), status)
}
