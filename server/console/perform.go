package console

import (
	"net/url"
	"strconv"

	"github.com/aktual/aktual/server/admin"
)

// perform makes a confirmed change; admin checks the caller's right to it.
func (c *Console) perform(p *page, v url.Values) (result, error) {
	ctx, who, P := p.r.Context(), p.caller, printer(p.r)
	id, _ := strconv.ParseInt(v.Get("id"), 10, 64)
	n, _ := strconv.ParseInt(v.Get("updates"), 10, 64)
	reason := v.Get("reason")
	var res result
	switch v.Get("action") {
	case "activate":
		out, err := c.Admin.Activate(ctx, who, admin.ActivateRequest{Customer: v.Get("customer"), Series: v.Get("series"), Updates: n,
			HWKey: v.Get("hwkey"), Distributor: v.Get("distributor"), VAT: v.Get("vat"), IdempotencyKey: v.Get("invoice"), Reason: reason})
		if err != nil {
			return res, err
		}
		return outcomeResult(P, out), nil
	case "add":
		out, err := c.Admin.AddUpdates(ctx, who, id, admin.AddRequest{Updates: n, IdempotencyKey: v.Get("invoice"), Reason: reason})
		if err != nil {
			return res, err
		}
		return outcomeResult(P, out), nil
	case "suspend", "reinstate", "replace-key", "correct":
		var cr admin.Credential
		var err error
		switch v.Get("action") {
		case "suspend":
			cr, err = c.Admin.Suspend(ctx, who, id, reason)
		case "reinstate":
			cr, err = c.Admin.Reinstate(ctx, who, id, reason)
		case "replace-key":
			cr, err = c.Admin.ReplaceKey(ctx, who, id, v.Get("hwkey"), reason)
		default:
			cr, err = c.Admin.Correct(ctx, who, id, n, reason)
		}
		if err != nil {
			return res, err
		}
		e, _ := c.Admin.Entitlement(ctx, who, id)
		return result{Notice: P.Sprintf("Done. %s: %d remaining of %d purchased.", credName(cr), cr.Remaining, cr.Purchased), Customer: e.Customer}, nil
	case "customer":
		vat, dist := v.Get("vat"), v.Get("distributor")
		ch := admin.CustomerChange{VAT: &vat, Reason: reason}
		if who.Distributor == "" {
			ch.Distributor = &dist
		}
		d, err := c.Admin.UpdateCustomer(ctx, who, v.Get("customer"), ch)
		if err != nil {
			return res, err
		}
		return result{Notice: P.Sprintf("Done: the customer's record is changed."), Customer: d.Name}, nil
	case "reissue":
		r, err := c.Admin.Reissue(ctx, who, id, reason)
		if err != nil {
			return res, err
		}
		e, _ := c.Admin.Entitlement(ctx, who, id)
		return result{Notice: P.Sprintf("The new update code. Give it to the customer now: it cannot be shown again. The old code no longer works."), Secret: r.Code, Customer: e.Customer}, nil
	}
	if isReleaseAction(v.Get("action")) {
		return c.performRelease(p, v)
	}
	return c.performStaff(p, v)
}

func outcomeResult(P interface {
	Sprintf(string, ...any) string
}, out admin.Outcome) result {
	res := result{Customer: out.Customer}
	switch {
	case out.Replayed:
		res.Notice = P.Sprintf("This invoice was already activated: nothing was added now. %d updates remain.", out.Remaining)
	case out.Code != "":
		res.Notice = P.Sprintf("The update code of %s, with %d updates. Give it to the customer now: it cannot be shown again.", out.Customer, out.Remaining)
	default:
		res.Notice = P.Sprintf("Done: %d updates added. %d remain.", out.Added, out.Remaining)
	}
	res.Secret = out.Code
	return res
}

// performStaff makes a confirmed change of staff accounts or tokens.
func (c *Console) performStaff(p *page, v url.Values) (result, error) {
	ctx, who, P := p.r.Context(), p.caller, printer(p.r)
	back := result{Back: "/staff"}
	switch v.Get("action") {
	case "staff-add":
		n, err := c.Admin.AddStaff(ctx, who, v.Get("login"), v.Get("role"), v.Get("distributor"))
		if err != nil {
			return back, err
		}
		back.Notice, back.Secret = P.Sprintf("Account %s added. Its first password is below: give it to them now; it cannot be shown again.", n.Login), n.Password
	case "staff-disable", "staff-enable":
		disable := v.Get("action") == "staff-disable"
		if _, err := c.Admin.SetDisabled(ctx, who, v.Get("login"), disable, v.Get("reason")); err != nil {
			return back, err
		}
		back.Notice = P.Sprintf("Account %s changed.", v.Get("login"))
	case "staff-reset":
		n, err := c.Admin.ResetPassword(ctx, who, v.Get("login"))
		if err != nil {
			return back, err
		}
		back.Notice, back.Secret = P.Sprintf("The new password of %s. Give it to them now; it cannot be shown again.", n.Login), n.Password
	case "token-add":
		t, err := c.Admin.CreateToken(ctx, who, v.Get("login"), v.Get("name"), v.Get("role"))
		if err != nil {
			return back, err
		}
		back.Notice, back.Secret = P.Sprintf("API token %q of %s. Copy it now; it cannot be shown again.", t.Name, t.Login), t.Token
	case "token-revoke":
		id, _ := strconv.ParseInt(v.Get("id"), 10, 64)
		if err := c.Admin.RevokeToken(ctx, who, id, v.Get("reason")); err != nil {
			return back, err
		}
		back.Notice = P.Sprintf("Token %d revoked.", id)
	case "distributor-add":
		if err := c.Admin.AddDistributor(ctx, who, v.Get("name")); err != nil {
			return back, err
		}
		back.Notice = P.Sprintf("Distributor %s recorded.", v.Get("name"))
	default:
		return back, errUnknownChange
	}
	return back, nil
}
