package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// A change is made in two steps: the form posts to /preview, which shows
// exactly what will change (before → after) and repeats the form's values
// in hidden fields; the confirmation posts them to /apply, which makes the
// change. An activation or addition carries an idempotency key from the
// preview on (the invoice number, or one made up), so pressing Confirm
// twice, or Back and Confirm again, adds the updates once.

// fields are a change's form values; which are used depends on Action.
var fields = []string{"action", "id", "customer", "series", "updates", "hwkey", "distributor", "vat", "reason", "invoice", "login", "role", "name",
	"product", "version", "percent"}

// row is one line of what will change.
type row struct{ Label, Before, After string }

// change is the confirmation page.
type change struct {
	Action   string
	Heading  string
	Rows     []row
	Warning  string
	Hidden   url.Values
	Customer string
	Back     string // where Cancel goes when not to Customer
}

type formData struct {
	Action       string
	Credential   admin.Credential
	Customer     string
	Distributor  string
	VAT          string
	Distributors []string
	// A release change (releasecontrol.go): the release and how it is
	// offered now.
	Release          bool
	Product, Version string
	Control          admin.Control
}

// actions a form can be opened for on an entitlement, and what each needs.
var entitlementActions = map[string]staff.Action{
	"add": staff.ActAddUpdates, "suspend": staff.ActSuspend, "reinstate": staff.ActSuspend,
	"replace-key": staff.ActReplaceKey, "reissue": staff.ActReissue, "correct": staff.ActCorrect,
}

// customerForm changes a customer's VAT number or distributor.
func (c *Console) customerForm(p *page) {
	d, err := c.Admin.Customer(p.r.Context(), p.caller, p.r.PathValue("name"))
	if err == nil && !staff.Can(p.caller.Principal, staff.ActActivate) {
		err = admin.ErrForbidden
	}
	if err != nil {
		p.showError(c, err)
		return
	}
	ds, err := c.Admin.Distributors(p.r.Context(), p.caller)
	if err != nil {
		p.showError(c, err)
		return
	}
	p.show(c, http.StatusOK, "form", view{Title: "Change", Data: formData{Action: "customer", Customer: d.Name,
		Distributor: d.Distributor, VAT: d.VAT, Distributors: ds}})
}

// describeCustomer: the customer's record before and after.
func (c *Console) describeCustomer(p *page, v url.Values, ch change) (change, error) {
	T := phrases(printer(p.r))
	d, err := c.Admin.Customer(p.r.Context(), p.caller, v.Get("customer"))
	if err != nil {
		return ch, err
	}
	ch.Customer = d.Name
	ch.Rows = append(ch.Rows, row{T["Customer"], d.Name, d.Name}, row{T["VAT number"], d.VAT, v.Get("vat")},
		row{T["Distributor"], d.Distributor, v.Get("distributor")})
	if r := v.Get("reason"); r != "" {
		ch.Rows = append(ch.Rows, row{T["Reason"], "", r})
	}
	return ch, nil
}

func (c *Console) activateForm(p *page) {
	if !staff.Can(p.caller.Principal, staff.ActActivate) {
		p.showError(c, admin.ErrForbidden)
		return
	}
	d := formData{Action: "activate", Customer: p.r.URL.Query().Get("customer"), Distributor: p.caller.Distributor}
	p.show(c, http.StatusOK, "form", view{Title: "Activate updates", Data: d})
}

func (c *Console) actionForm(p *page) {
	action := p.r.PathValue("action")
	need, ok := entitlementActions[action]
	if !ok {
		p.show(c, http.StatusNotFound, "error", view{Title: "Not found", Error: "There is no such page."})
		return
	}
	id, err := strconv.ParseInt(p.r.PathValue("id"), 10, 64)
	if err != nil {
		p.show(c, http.StatusNotFound, "error", view{Title: "Not found", Error: "There is no such page."})
		return
	}
	cr, err := c.Admin.Entitlement(p.r.Context(), p.caller, id)
	if err == nil && !staff.Can(p.caller.Principal, need) {
		err = admin.ErrForbidden
	}
	if err != nil {
		p.showError(c, err)
		return
	}
	p.show(c, http.StatusOK, "form", view{Title: "Change", Data: formData{Action: action, Credential: cr, Customer: cr.Customer}})
}

// formValues reads a change's fields, bounded.
func formValues(r *http.Request) url.Values {
	v := url.Values{}
	for _, f := range fields {
		if s := strings.TrimSpace(r.PostFormValue(f)); s != "" {
			v.Set(f, s)
		}
	}
	return v
}

func (c *Console) preview(p *page) {
	v := formValues(p.r)
	if (v.Get("action") == "activate" || v.Get("action") == "add") && v.Get("invoice") == "" {
		tok, _ := staff.NewSessionID()
		v.Set("invoice", "console-"+tok[len(tok)-16:])
	}
	ch, err := c.describe(p, v)
	if err != nil {
		p.showError(c, err)
		return
	}
	ch.Hidden = v
	p.show(c, http.StatusOK, "confirm", view{Title: "Confirm the change", Data: ch})
}

// number reads a whole number field; a refusal says which.
func number(v url.Values, field string) (int64, error) {
	n, err := strconv.ParseInt(v.Get(field), 10, 64)
	if err != nil {
		return 0, errInvalidNumber
	}
	return n, nil
}

var errInvalidNumber = admin.Refuse(admin.ErrInvalid, i18n.Errorf("type the number of updates as a whole number, e.g. 3"))

var errUnknownChange = admin.Refuse(admin.ErrInvalid, i18n.Errorf("the console does not know this change; open the customer's page and start again"))

// describe says what a change will do, from the state it finds now.
func (c *Console) describe(p *page, v url.Values) (change, error) {
	T := phrases(printer(p.r))
	ctx, who := p.r.Context(), p.caller
	ch := change{Action: v.Get("action"), Heading: T["action:"+v.Get("action")]}
	if ch.Heading == "" {
		return ch, errUnknownChange
	}
	switch ch.Action {
	case "activate":
		return c.describeActivation(p, v, ch)
	case "customer":
		return c.describeCustomer(p, v, ch)
	case "release-rollout", "release-halt", "release-resume", "release-yank":
		return c.describeRelease(p, v, ch)
	case "staff-add", "staff-disable", "staff-enable", "staff-reset", "token-add", "token-revoke", "distributor-add":
		if !staff.Can(who.Principal, staff.ActManageStaff) {
			return ch, admin.Refuse(admin.ErrForbidden, i18n.Errorf("your role (%s) does not allow this", who.Role))
		}
		return describeStaffChange(T, v, ch), nil
	}
	id, err := number(v, "id")
	if err != nil {
		return ch, errUnknownChange
	}
	cr, err := c.Admin.Entitlement(ctx, who, id)
	if err != nil {
		return ch, err
	}
	if !staff.Can(who.Principal, entitlementActions[ch.Action]) {
		return ch, admin.ErrForbidden
	}
	ch.Customer = cr.Customer
	ch.Rows = append(ch.Rows, row{T["Customer"], cr.Customer, cr.Customer}, row{T["Credential"], credName(cr), credName(cr)})
	n, _ := number(v, "updates")
	switch ch.Action {
	case "add", "correct":
		if ch.Action == "correct" && n == 0 {
			return ch, errInvalidNumber
		}
		ch.Rows = append(ch.Rows,
			row{T["Purchased"], itoa(cr.Purchased), itoa(cr.Purchased + n)},
			row{T["Remaining"], itoa(cr.Remaining), itoa(cr.Remaining + n)})
	case "suspend", "reinstate":
		ch.Rows = append(ch.Rows, row{T["State"], activeText(T, cr.Active), activeText(T, ch.Action == "reinstate")})
	case "replace-key":
		ch.Rows[1].After = v.Get("hwkey")
		ch.Warning = T["The old key stops working at once."]
	case "reissue":
		ch.Rows[1].After = T["a new code (shown once, after you confirm)"]
		ch.Warning = T["The old code stops working at once."]
	}
	if r := v.Get("reason"); r != "" {
		ch.Rows = append(ch.Rows, row{T["Reason"], "", r})
	}
	return ch, nil
}

func activeText(T map[string]string, active bool) string {
	if active {
		return T["active"]
	}
	return T["suspended"]
}

func credName(cr admin.Credential) string {
	if cr.Kind == store.KindHWKey {
		return cr.HWKeySerial
	}
	return "…-" + cr.CodeHint
}

// describeActivation: a new customer, a new credential, or more updates
// on one they hold.
func (c *Console) describeActivation(p *page, v url.Values, ch change) (change, error) {
	T := phrases(printer(p.r))
	n, err := number(v, "updates")
	if err != nil {
		return ch, err
	}
	name, series := v.Get("customer"), v.Get("series")
	ch.Customer = name
	ch.Rows = append(ch.Rows, row{T["Customer"], "", name})
	cur, err := c.Admin.Customer(p.r.Context(), p.caller, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		ch.Rows[0].Before = T["(a new customer)"]
		if d := v.Get("distributor"); d != "" {
			ch.Rows = append(ch.Rows, row{T["Distributor"], "", d})
		}
	case err != nil:
		return ch, err
	default:
		ch.Rows[0].Before = name
	}
	var held *admin.Credential
	for i, cr := range cur.Credentials {
		if cr.Series == series && (series == api.SeriesPro || cr.HWKeySerial == v.Get("hwkey")) {
			held = &cur.Credentials[i]
		}
	}
	switch {
	case held != nil:
		ch.Rows = append(ch.Rows, row{T["Credential"], credName(*held), credName(*held)},
			row{T["Purchased"], itoa(held.Purchased), itoa(held.Purchased + n)},
			row{T["Remaining"], itoa(held.Remaining), itoa(held.Remaining + n)})
	case series == api.SeriesPro:
		ch.Rows = append(ch.Rows, row{T["Credential"], "", T["a new code (shown once, after you confirm)"]},
			row{T["Remaining"], "0", itoa(n)})
	default:
		ch.Rows = append(ch.Rows, row{T["Credential"], "", v.Get("hwkey")}, row{T["Remaining"], "0", itoa(n)})
	}
	ch.Rows = append(ch.Rows, row{T["Invoice"], "", v.Get("invoice")})
	return ch, nil
}

func describeStaffChange(T map[string]string, v url.Values, ch change) change {
	for _, f := range []string{"login", "role", "distributor", "name", "id", "reason"} {
		if s := v.Get(f); s != "" {
			ch.Rows = append(ch.Rows, row{T["field:"+f], "", s})
		}
	}
	switch ch.Action {
	case "staff-disable":
		ch.Warning = T["Their sessions and API tokens stop working at once."]
	case "staff-reset":
		ch.Warning = T["Their sessions end; the new password is shown once."]
	}
	return ch
}

// result is the page after a change.
type result struct {
	Notice   string
	Secret   string // a code, password or token: shown once
	Customer string
	Back     string
}

func (c *Console) apply(p *page) {
	v := formValues(p.r)
	res, err := c.perform(p, v)
	if err != nil {
		p.showError(c, err)
		return
	}
	p.show(c, http.StatusOK, "done", view{Title: "Done", Data: res})
}
