package server

import (
	"bytes"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/text/language"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/store"
)

//go:embed page.html
var pageHTML string

// pageTemplate is parsed on first use, not at start-up: aktual links the
// server for its demo, and every aktual command would pay for the parse.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

// pageText is every phrase of the Internet-code page, in one language.
type pageText struct {
	Title, Heading, Product, Installed, NewVersion, HWKey, Remaining string
	CopyCode, CodeLabel, Validity, OrContinue, Continue, Continued   string
	// Problems: what is wrong, and what to do.
	NotFound, NotFoundDo, Expired, ExpiredDo, Used, UsedDo, Locked, LockedDo string
	NotEnabled, NotEnabledDo, Exhausted, ExhaustedDo                         string
}

// newPageText renders the page's phrases in p's language. The English
// texts are the catalog keys (translations: internal/i18n/locales/<lang>/page.json).
func newPageText(p *i18n.Printer) pageText {
	return pageText{
		Title:        p.Sprintf("Internet code"),
		Heading:      p.Sprintf("Internet code for your update"),
		Product:      p.Sprintf("Product"),
		Installed:    p.Sprintf("Installed version"),
		NewVersion:   p.Sprintf("New version"),
		HWKey:        p.Sprintf("Hardware key"),
		Remaining:    p.Sprintf("Updates remaining"),
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

// pageLanguage picks the page's language: ?lang=bg or ?lang=en (the
// installer opens the page in its own language) before Accept-Language.
// chosen is the language the query chose, "" for none: the Continue form
// carries it through its post and redirect.
func pageLanguage(r *http.Request) (p *i18n.Printer, chosen string) {
	tag := requestLanguage(r)
	// A language the page does not speak is ignored, not taken for English.
	if q, err := language.Parse(r.URL.Query().Get("lang")); err == nil {
		if _, i, conf := langMatcher.Match(q); conf != language.No {
			tag = i18n.Supported[i]
			chosen = tag.String()
		}
	}
	return i18n.NewPrinter(tag), chosen
}

type pageData struct {
	Lang              string
	ChosenLang        string // "bg" when the page's URL chose it (?lang=bg)
	T                 pageText
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
}

// handlePage is the page a person opens in the browser: it shows the
// Internet code, or says why there is none and what to do.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	p, chosen := pageLanguage(r)
	t := newPageText(p)
	d := pageData{Lang: p.Lang().String(), ChosenLang: chosen, T: t}
	status := http.StatusOK
	id := r.PathValue("id")
	cs, err := s.Store.Session(r.Context(), id)
	switch {
	case !ValidName(id) || errors.Is(err, store.ErrNotFound):
		status, d.Problem, d.Remedy = http.StatusNotFound, t.NotFound, t.NotFoundDo
	case err != nil:
		s.internalError(w, r, "reading session", err)
		return
	default:
		d.fill(s, r, cs)
	}
	s.renderPage(w, r, status, d)
}

func (d *pageData) fill(s *Server, r *http.Request, cs store.ClassicSession) {
	t := d.T
	d.Known, d.Session = true, cs.ID
	d.Product, d.From, d.To, d.Serial = cs.Product, cs.FromVersion, cs.ToVersion, cs.Serial
	v := s.sessionView(r, cs)
	if v.Remaining != nil {
		d.HasRemaining, d.Remaining = true, *v.Remaining
	}
	switch {
	case v.State == api.SessionUsed:
		d.Problem, d.Remedy = t.Used, t.UsedDo
	case v.State == api.SessionExpired:
		d.Problem, d.Remedy = t.Expired, t.ExpiredDo
	case v.State == api.SessionLocked:
		d.Problem, d.Remedy = t.Locked, t.LockedDo
	case v.Problem == api.CodeInactive:
		d.Problem, d.Remedy = t.NotEnabled, t.NotEnabledDo
	case v.Problem == api.CodeExhausted:
		d.Problem, d.Remedy = t.Exhausted, t.ExhaustedDo
	default:
		code := api.DeriveInternetCode(s.Keys.CodeSecret, cs.ID)
		d.Code = code.String()
		d.Spoken = strings.Join(strings.Split(string(code), ""), " ")
		d.Confirmed = cs.State == api.SessionConfirmed
		d.CSRF = hex.EncodeToString(s.mac("csrf", []byte(cs.ID)))
	}
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	var buf bytes.Buffer
	if err := pageTemplate().Execute(&buf, d); err != nil {
		s.internalError(w, r, "rendering page", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", d.Lang)
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// langQuery is the query that keeps a chosen language ("" for none).
func langQuery(chosen string) string {
	if chosen == "" {
		return ""
	}
	return "?" + url.Values{"lang": {chosen}}.Encode()
}

// handleContinue is the page's "Continue the update" button: the session
// is confirmed and the installer, polling it, goes on by itself.
func (s *Server) handleContinue(w http.ResponseWriter, r *http.Request) {
	// The page's language comes in the form's URL (?lang=), so that even
	// a form that cannot be read is answered in it.
	p, chosen := pageLanguage(r)
	id := r.PathValue("id")
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		pageTextError(w, p, http.StatusBadRequest, i18n.M("bad form: reload the page and press the button again"))
		return
	}
	want := hex.EncodeToString(s.mac("csrf", []byte(id)))
	if !ValidName(id) || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(want)) != 1 {
		pageTextError(w, p, http.StatusForbidden, i18n.M("this form has expired; reload the page"))
		return
	}
	cs, err := s.Store.Session(r.Context(), id)
	if err == nil && s.now().Before(cs.ExpiresAt) && cs.State == api.SessionOpen {
		if _, err := s.Store.ConfirmSession(r.Context(), id); err != nil && !errors.Is(err, store.ErrSessionUsed) {
			s.internalError(w, r, "confirming session", err)
			return
		}
		s.logger().Info("classic session confirmed on its page", "session", maskSession(id))
	}
	// Post/redirect/get: the page now shows what happened, in its language.
	http.Redirect(w, r, "/classic/"+id+langQuery(chosen), http.StatusSeeOther)
}

// pageTextError answers the Continue form with plain text in the page's
// language.
func pageTextError(w http.ResponseWriter, p *i18n.Printer, status int, msg i18n.Message) {
	w.Header().Set("Content-Language", p.Lang().String())
	http.Error(w, p.Sprint(msg), status)
}
