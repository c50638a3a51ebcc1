package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// Release control on the Releases page (issue 20): roll out, halt,
// resume and withdraw a release, each a form that goes through the same
// preview and confirmation as every other change. Only roles with
// control-releases (admin, office) see the buttons; admin refuses
// everyone else on every request, the forged one included.

// releaseActions are the release changes, by the form's path segment.
var releaseActions = map[string]string{
	"rollout": "release-rollout", "halt": "release-halt", "resume": "release-resume", "yank": "release-yank",
}

// isReleaseAction reports whether a change's action is a release change.
func isReleaseAction(action string) bool { return strings.HasPrefix(action, "release-") }

// releasesBack is the page a release change goes back to.
func releasesBack(product string) string { return "/releases?product=" + url.QueryEscape(product) }

// errNoRight is the refusal of a change c's role does not allow.
func errNoRight(c admin.Caller) error {
	return admin.Refuse(admin.ErrForbidden, i18n.Errorf("your role (%s) does not allow this", c.Role))
}

// releaseForm is the form of one release change: the release as it is
// offered now, a percent for a rollout, and the reason.
func (c *Console) releaseForm(p *page) {
	action, ok := releaseActions[p.r.PathValue("action")]
	if !ok {
		p.show(c, http.StatusNotFound, "error", view{Title: "Not found", Error: "There is no such page."})
		return
	}
	if !staff.Can(p.caller.Principal, staff.ActControlReleases) {
		p.showError(c, errNoRight(p.caller))
		return
	}
	product, version := p.r.PathValue("product"), p.r.PathValue("version")
	ctl, err := c.Admin.ReleaseControl(p.r.Context(), p.caller, product, version)
	if err != nil {
		p.showError(c, err)
		return
	}
	title := map[string]string{"release-rollout": "Roll out a release", "release-halt": "Halt a release",
		"release-resume": "Resume a release", "release-yank": "Withdraw a release for good"}[action]
	p.show(c, http.StatusOK, "form", view{Title: title, Data: formData{Action: action, Release: true,
		Product: ctl.Product, Version: version, Control: ctl}})
}

var errPercent = admin.Refuse(admin.ErrInvalid, i18n.Errorf("type the percent as a whole number from 0 to 100, e.g. 25"))

var errNoReason = admin.Refuse(admin.ErrInvalid, i18n.Errorf("say why in the reason: the audit log and the release's status show it"))

// describeRelease says what a release change will do: the state and the
// rollout before and after, and for a withdrawal where each platform's
// installations move back to.
func (c *Console) describeRelease(p *page, v url.Values, ch change) (change, error) {
	T, P := phrases(printer(p.r)), printer(p.r)
	ctx, who := p.r.Context(), p.caller
	if !staff.Can(who.Principal, staff.ActControlReleases) {
		return ch, errNoRight(who)
	}
	product, version := v.Get("product"), v.Get("version")
	ctl, err := c.Admin.ReleaseControl(ctx, who, product, version)
	if err != nil {
		return ch, err
	}
	if v.Get("reason") == "" {
		return ch, errNoReason
	}
	ch.Back = releasesBack(product)
	state, percent := ctl.State, ctl.Percent
	switch ch.Action {
	case "release-rollout":
		n, err := strconv.Atoi(v.Get("percent"))
		if err != nil || n < 0 || n > 100 {
			return ch, errPercent
		}
		percent = n
	case "release-halt":
		state = store.ControlHalted
	case "release-resume":
		state = store.ControlLive
	case "release-yank":
		state = store.ControlYanked
	}
	ch.Rows = append(ch.Rows, row{T["Product"], product, product}, row{T["Version"], version, version},
		row{T["State"], T["state:"+ctl.State], T["state:"+state]},
		row{T["Rollout"], strconv.Itoa(ctl.Percent) + "%", strconv.Itoa(percent) + "%"})
	if ch.Action == "release-yank" {
		plan, err := c.Admin.YankPlan(ctx, who, product, version)
		if err != nil {
			return ch, err
		}
		for _, d := range plan {
			after := P.Sprintf("%s, free of charge", d.Version)
			if d.Version == "" {
				after = T["no older release: they stay on it until a new version is published"]
			}
			ch.Rows = append(ch.Rows, row{P.Sprintf("Installations on %s/%s", d.OS, d.Arch), version, after})
		}
		ch.Warning = P.Sprintf("This cannot be undone: %s %s will never be offered or published again, and its installations move back to the releases above.", product, version)
	}
	ch.Rows = append(ch.Rows, row{T["Reason"], "", v.Get("reason")})
	return ch, nil
}

// performRelease makes a confirmed release change; admin checks the
// caller's right to it.
func (c *Console) performRelease(p *page, v url.Values) (result, error) {
	ctx, who, P := p.r.Context(), p.caller, printer(p.r)
	product, version, reason := v.Get("product"), v.Get("version"), v.Get("reason")
	res := result{Back: releasesBack(product)}
	var ctl admin.Control
	var err error
	switch v.Get("action") {
	case "release-rollout":
		n, perr := strconv.Atoi(v.Get("percent"))
		if perr != nil {
			return res, errPercent
		}
		ctl, err = c.Admin.Rollout(ctx, who, product, version, n, reason)
	case "release-halt":
		ctl, err = c.Admin.Halt(ctx, who, product, version, reason)
	case "release-resume":
		ctl, err = c.Admin.Resume(ctx, who, product, version, reason)
	case "release-yank":
		y, yerr := c.Admin.Yank(ctx, who, product, version, reason)
		if yerr != nil {
			return res, yerr
		}
		notes := []string{P.Sprintf("Done: %s %s is withdrawn for good.", product, version)}
		for _, d := range y.Downgrades {
			if d.Version == "" {
				notes = append(notes, P.Sprintf("%s/%s: no older release to move back to; its installations stay until a new version is published.", d.OS, d.Arch))
			} else {
				notes = append(notes, P.Sprintf("%s/%s: installations move back to %s free of charge.", d.OS, d.Arch, d.Version))
			}
		}
		res.Notice = strings.Join(notes, " ")
		return res, nil
	default:
		return res, errUnknownChange
	}
	if err != nil {
		return res, err
	}
	if ctl.State == store.ControlHalted {
		res.Notice = P.Sprintf("Done: %s %s is halted. It is not offered, and no update to it is reserved, until it is resumed.", product, version)
	} else {
		res.Notice = P.Sprintf("Done: %s %s is offered to %d%% of installations.", product, version, ctl.Percent)
	}
	return res, nil
}

// releasePhrases are the words of release control.
func releasePhrases(p *i18n.Printer) map[string]string {
	return map[string]string{
		"Roll out…":                   p.Sprintf("Roll out…"),
		"Halt":                        p.Sprintf("Halt"),
		"Resume":                      p.Sprintf("Resume"),
		"Withdraw for good":           p.Sprintf("Withdraw for good"),
		"Roll out a release":          p.Sprintf("Roll out a release"),
		"Halt a release":              p.Sprintf("Halt a release"),
		"Resume a release":            p.Sprintf("Resume a release"),
		"Withdraw a release for good": p.Sprintf("Withdraw a release for good"),
		"Percent of installations offered the release (0 to 100)":                                p.Sprintf("Percent of installations offered the release (0 to 100)"),
		"no older release: they stay on it until a new version is published":                     p.Sprintf("no older release: they stay on it until a new version is published"),
		"Halting stops offering it at once; no update to it is reserved until it is resumed.":    p.Sprintf("Halting stops offering it at once; no update to it is reserved until it is resumed."),
		"Withdrawing cannot be undone; the next page says where its installations move back to.": p.Sprintf("Withdrawing cannot be undone; the next page says where its installations move back to."),
	}
}
