// Package console is the staff console: server-rendered pages (no
// JavaScript framework; the pages work without any script) in Bulgarian
// and English on the admin listener, for the vendor's offices and the
// regional distributors. It signs staff in (password, then an
// authenticator's code when the account has one), keeps the session in a
// cookie whose value only the database knows the hash of, checks a CSRF
// token on every form, and asks package admin, which checks every request
// against the staff member's role and distributor. Every change is shown
// first as exactly what will change, then made on confirmation.
package console

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/staff"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// maxForm bounds every form the console reads.
const maxForm = 16 << 10

// Cookie names. The __Host- prefix makes a browser refuse the cookie
// unless it is Secure, for the whole host and path /: no other site or
// path can plant or read it.
const (
	sessionCookie = "__Host-aktual-session"
	preCookie     = "__Host-aktual-pre" // the sign-in form's CSRF token
	langCookie    = "aktual-lang"
)

// Console serves the staff console.
type Console struct {
	Admin   *admin.Admin
	Proxies staff.Proxies
	Logger  *slog.Logger
	// Secure is true when the admin listener serves HTTPS. Cookies are
	// Secure either way: browsers keep Secure cookies of http://localhost
	// and http://127.0.0.1, the only plain-HTTP places serve allows.
	Secure bool
}

// Handler serves every console page.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("GET /login/code", c.totpPage)
	mux.HandleFunc("POST /login/code", c.totp)
	mux.HandleFunc("GET /language", c.language)
	mux.Handle("POST /logout", c.signedIn(c.logout))
	mux.Handle("GET /{$}", c.signedIn(c.search))
	mux.Handle("GET /customers/{name}", c.signedIn(c.customer))
	mux.Handle("GET /customers/{name}/edit", c.signedIn(c.customerForm))
	mux.Handle("GET /activate", c.signedIn(c.activateForm))
	mux.Handle("GET /entitlements/{id}/{action}", c.signedIn(c.actionForm))
	mux.Handle("POST /preview", c.signedIn(c.preview))
	mux.Handle("POST /apply", c.signedIn(c.apply))
	mux.Handle("GET /audit", c.signedIn(c.audit))
	mux.Handle("GET /releases", c.signedIn(c.releases))
	mux.Handle("GET /releases/{product}/{version}/{action}", c.signedIn(c.releaseForm))
	mux.Handle("GET /staff", c.signedIn(c.staffPage))
	mux.Handle("GET /account", c.signedIn(c.account))
	mux.Handle("POST /account/password", c.signedIn(c.changePassword))
	mux.Handle("POST /account/totp", c.signedIn(c.newTOTP))
	mux.Handle("POST /account/totp/confirm", c.signedIn(c.confirmTOTP))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", view{Title: "Not found", Error: "There is no such page."})
	})
	return mux
}

// page is one signed-in request: who, and the session's CSRF token.
type page struct {
	w      http.ResponseWriter
	r      *http.Request
	caller admin.Caller
	csrf   string
}

// signedIn runs h for a signed-in staff member, checking the CSRF token of
// every POST; anyone else goes to the sign-in page.
func (c *Console) signedIn(h func(*page)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id string
		if ck, err := r.Cookie(sessionCookie); err == nil {
			id = ck.Value
		}
		caller, csrf, err := c.Admin.SessionCaller(r.Context(), id, c.Proxies.ClientAddr(r))
		if errors.Is(err, admin.ErrUnauthorized) {
			if r.Method != http.MethodGet {
				c.render(w, r, http.StatusUnauthorized, "error", view{Title: "Sign in", Error: "Your session has ended. Sign in again; nothing was changed."})
				return
			}
			next := r.URL.RequestURI()
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		} else if err != nil {
			c.showError(w, r, err)
			return
		}
		// Bounded before the CSRF check parses the form: no form of the
		// console is near 16 KiB.
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		p := &page{w: w, r: r, caller: caller, csrf: csrf}
		if r.Method == http.MethodPost && !c.sameOrigin(r, csrf) {
			c.render(w, r, http.StatusForbidden, "error", view{Title: "Refused", Error: "The form was refused: it did not come from this console (its security token is missing or old). Open the page again and repeat."})
			return
		}
		h(p)
	})
}

// sameOrigin checks a form's CSRF token against the session's and, when
// the browser names one, that the form's origin is this server's.
func (c *Console) sameOrigin(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// printer is the reader's language: the language cookie (set by the
// language switch), else the browser's Accept-Language.
func printer(r *http.Request) *i18n.Printer {
	if ck, err := r.Cookie(langCookie); err == nil {
		if t, err := language.Parse(ck.Value); err == nil {
			if t, ok := i18n.Supports(t); ok {
				return i18n.NewPrinter(t)
			}
		}
	}
	return i18n.NewPrinter(i18n.AcceptLanguage(r.Header.Get("Accept-Language")))
}

// language switches the console's language and goes back.
func (c *Console) language(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	if t, err := language.Parse(lang); err == nil {
		if t, ok := i18n.Supports(t); ok {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: t.String(), Path: "/", MaxAge: 365 * 24 * 3600,
				Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
	}
	http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// localPath keeps a redirect on this server: anything but a plain path
// ("//evil.example", "https://…", "/\evil") goes to the start page.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') ||
		strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/" // browsers drop tabs and line breaks: "/\t/evil" would be "//evil"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return p
}

// view is what every page template gets.
type view struct {
	Lang   string
	T      map[string]string
	Me     *admin.Caller
	CSRF   string
	Path   string
	Title  string // an English phrase, translated for the page
	Error  string // an English phrase, or an error's words already translated
	Notice string
	Data   any
	Can    map[string]bool
}

var (
	tmplOnce sync.Once
	tmpls    map[string]*template.Template
)

// templates parses every page with the layout, once.
func templates() map[string]*template.Template {
	tmplOnce.Do(func() {
		tmpls = map[string]*template.Template{}
		names, _ := fs.Glob(templateFS, "templates/*.html")
		for _, n := range names {
			name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if name == "layout" {
				continue
			}
			t := template.New("layout.html").Funcs(funcs)
			tmpls[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", n))
		}
	})
	return tmpls
}

var funcs = template.FuncMap{
	"t": func(m map[string]string, key string) string {
		if s, ok := m[key]; ok {
			return s
		}
		return "MISSING:" + key // the page tests fail on it
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"pathEscape": url.PathEscape,
	// named is the phrase of a code (a ledger kind, an audit action),
	// or the code itself when it has none.
	"named": func(m map[string]string, prefix, code string) string {
		if s, ok := m[prefix+code]; ok {
			return s
		}
		return code
	},
	"signed": func(n int64) string {
		if n > 0 {
			return "+" + itoa(n)
		}
		return itoa(n)
	},
}

// render writes the page name, or a plain error when the template fails.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	p := printer(r)
	v.Lang = p.Lang().String()
	v.T = phrases(p)
	if t, ok := v.T[v.Title]; ok {
		v.Title = t
	}
	if t, ok := v.T[v.Error]; ok {
		v.Error = t
	}
	v.Path = r.URL.RequestURI()
	var buf bytes.Buffer
	if err := templates()[name].Execute(&buf, v); err != nil {
		if c.Logger != nil {
			c.Logger.Error("console template", "page", name, "err", err)
		}
		http.Error(w, "the page failed to render; the error is in the server's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// show renders a signed-in page.
func (p *page) show(c *Console, status int, name string, v view) {
	v.Me, v.CSRF = &p.caller, p.csrf
	v.Can = permissions(p.caller)
	c.render(p.w, p.r, status, name, v)
}
