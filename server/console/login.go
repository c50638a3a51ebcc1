package console

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// Sign-in. Before a session exists, the sign-in form's CSRF token is a
// random value in a cookie of its own, repeated in the form (double
// submit): another site cannot read the cookie to forge the form, so it
// cannot sign a staff member's browser into an account of its choosing.

type loginData struct {
	Login string
	Next  string
	Pre   string
}

func (c *Console) preToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	v := staff.NewCSRF()
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: v, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return v
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	d := loginData{Next: localPath(r.URL.Query().Get("next")), Pre: c.preToken(w, r)}
	c.render(w, r, http.StatusOK, "login", view{Title: "Sign in", Data: d})
}

func (c *Console) checkPre(r *http.Request) bool {
	ck, err := r.Cookie(preCookie)
	return err == nil && ck.Value != "" && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) == 1
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	login, next := r.PostFormValue("login"), localPath(r.PostFormValue("next"))
	d := loginData{Login: login, Next: next, Pre: c.preToken(w, r)}
	if !c.checkPre(r) {
		c.render(w, r, http.StatusForbidden, "login", view{Title: "Sign in", Error: "The form was refused: it did not come from this console (its security token is missing or old). Open the page again and repeat.", Data: d})
		return
	}
	s, err := c.Admin.Login(r.Context(), login, r.PostFormValue("password"), c.Proxies.ClientAddr(r))
	if err != nil {
		c.loginFailed(w, r, err, d)
		return
	}
	c.setSession(w, s)
	if s.Pending {
		http.Redirect(w, r, "/login/code?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// loginFailed answers a refused sign-in: the same words for an unknown
// login and a wrong password.
func (c *Console) loginFailed(w http.ResponseWriter, r *http.Request, err error, d loginData) {
	var throttled *admin.ErrThrottled
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter/time.Second)+1))
		c.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Sign in", Error: printer(r).Sprintf("Too many failed sign-ins. Try again in %d minutes, or ask an admin.", int(throttled.RetryAfter/time.Minute)+1), Data: d})
	case errors.Is(err, admin.ErrUnauthorized):
		c.render(w, r, http.StatusUnauthorized, "login", view{Title: "Sign in", Error: printer(r).Sprint(err), Data: d})
	default:
		c.showError(w, r, err)
	}
}

func (c *Console) setSession(w http.ResponseWriter, s admin.Session) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.ID, Path: "/", Expires: s.ExpiresAt,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (c *Console) totpPage(w http.ResponseWriter, r *http.Request) {
	d := loginData{Next: localPath(r.URL.Query().Get("next")), Pre: c.preToken(w, r)}
	c.render(w, r, http.StatusOK, "code", view{Title: "Sign in", Data: d})
}

func (c *Console) totp(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	d := loginData{Next: localPath(r.PostFormValue("next")), Pre: c.preToken(w, r)}
	if !c.checkPre(r) {
		c.render(w, r, http.StatusForbidden, "code", view{Title: "Sign in", Error: "The form was refused: it did not come from this console (its security token is missing or old). Open the page again and repeat.", Data: d})
		return
	}
	var pending string
	if ck, err := r.Cookie(sessionCookie); err == nil {
		pending = ck.Value
	}
	s, err := c.Admin.LoginTOTP(r.Context(), pending, r.PostFormValue("code"), c.Proxies.ClientAddr(r))
	var throttled *admin.ErrThrottled
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter/time.Second)+1))
		c.render(w, r, http.StatusTooManyRequests, "code", view{Title: "Sign in", Error: printer(r).Sprintf("Too many failed sign-ins. Try again in %d minutes, or ask an admin.", int(throttled.RetryAfter/time.Minute)+1), Data: d})
		return
	case errors.Is(err, admin.ErrUnauthorized):
		c.render(w, r, http.StatusUnauthorized, "code", view{Title: "Sign in", Error: printer(r).Sprint(err), Data: d})
		return
	case err != nil:
		c.showError(w, r, err)
		return
	}
	c.setSession(w, s)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (c *Console) logout(p *page) {
	if ck, err := p.r.Cookie(sessionCookie); err == nil {
		if err := c.Admin.Logout(p.r.Context(), ck.Value); err != nil {
			c.showError(p.w, p.r, err)
			return
		}
	}
	http.SetCookie(p.w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(p.w, p.r, "/login", http.StatusSeeOther)
}

// showError answers an error of an operation as a page in the reader's
// language, with the status the admin API would give.
func (c *Console) showError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := failure(c, r, err)
	c.render(w, r, status, "error", view{Title: "Refused", Error: msg})
}

// failure is an error's status and words; a failure of the server itself
// is logged, and the reader is told only that it happened.
func failure(c *Console, r *http.Request, err error) (int, string) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, admin.ErrUnauthorized):
		status = http.StatusUnauthorized
	case errors.Is(err, admin.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, admin.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrExists), errors.Is(err, store.ErrWouldGoNegative),
		errors.Is(err, store.ErrIdempotencyMismatch):
		status = http.StatusConflict
	}
	if status == http.StatusInternalServerError {
		if c.Logger != nil {
			c.Logger.Error("console", "path", r.URL.Path, "err", err)
		}
		return status, "The server failed; the error is in its log. Look at the customer before you repeat: the change may have been made."
	}
	return status, printer(r).Sprint(err)
}
