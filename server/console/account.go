package console

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/aktual/aktual/server/admin"
)

// The account page: every staff member changes their own password and
// turns on two-step sign-in here.

type accountData struct {
	TOTP   bool
	Setup  *admin.TOTPSetup
	Link   template.URL // the otpauth:// link, which html/template would otherwise refuse
	Notice string
}

func (c *Console) account(p *page) {
	c.showAccount(p, http.StatusOK, accountData{}, "")
}

func (c *Console) showAccount(p *page, status int, d accountData, errText string) {
	acc, err := c.Admin.Store.StaffAccount(p.r.Context(), p.caller.Login)
	if err != nil {
		p.showError(c, err)
		return
	}
	d.TOTP = acc.TOTPSecret != ""
	if d.Setup != nil && strings.HasPrefix(d.Setup.URL, "otpauth://totp/") {
		d.Link = template.URL(d.Setup.URL) // made by staff.NewTOTP, not typed by anyone
	}
	p.show(c, status, "account", view{Title: "My account", Error: errText, Data: d})
}

func (c *Console) changePassword(p *page) {
	r := p.r
	if r.PostFormValue("new") != r.PostFormValue("repeat") {
		c.showAccount(p, http.StatusBadRequest, accountData{}, "The new password and its repetition differ; type them again.")
		return
	}
	s, err := c.Admin.ChangePassword(r.Context(), p.caller, r.PostFormValue("current"), r.PostFormValue("new"), c.Proxies.ClientAddr(r))
	if err != nil {
		status, msg := failure(c, r, err)
		c.showAccount(p, status, accountData{}, msg)
		return
	}
	c.setSession(p.w, s)
	p.csrf = s.CSRF
	c.showAccount(p, http.StatusOK, accountData{Notice: printer(r).Sprintf("Your password is changed. Every other session of your account has ended.")}, "")
}

func (c *Console) newTOTP(p *page) {
	setup, err := c.Admin.NewOwnTOTP(p.r.Context(), p.caller)
	if err != nil {
		p.showError(c, err)
		return
	}
	c.showAccount(p, http.StatusOK, accountData{Setup: &setup}, "")
}

func (c *Console) confirmTOTP(p *page) {
	r := p.r
	secret := r.PostFormValue("secret")
	sess, err := c.Admin.ConfirmOwnTOTP(r.Context(), p.caller, secret, r.PostFormValue("code"), c.Proxies.ClientAddr(r))
	if err != nil {
		status, msg := failure(c, r, err)
		setup := admin.TOTPSetup{Login: p.caller.Login, Secret: secret}
		c.showAccount(p, status, accountData{Setup: &setup}, msg)
		return
	}
	c.setSession(p.w, sess)
	p.csrf = sess.CSRF
	c.showAccount(p, http.StatusOK, accountData{Notice: printer(r).Sprintf("Two-step sign-in is on: from now on, the console asks for the app's code after your password.")}, "")
}
