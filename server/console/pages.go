package console

import (
	"net/http"
	"strconv"
	"time"

	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// permissions says which links and buttons a page shows; admin decides
// again on every request, so a hidden button is only a courtesy.
func permissions(c admin.Caller) map[string]bool {
	return map[string]bool{
		"activate":     staff.Can(c.Principal, staff.ActActivate),
		"add":          staff.Can(c.Principal, staff.ActAddUpdates),
		"suspend":      staff.Can(c.Principal, staff.ActSuspend),
		"replace":      staff.Can(c.Principal, staff.ActReplaceKey),
		"reissue":      staff.Can(c.Principal, staff.ActReissue),
		"correct":      staff.Can(c.Principal, staff.ActCorrect),
		"audit":        staff.Can(c.Principal, staff.ActViewAudit),
		"releases":     staff.Can(c.Principal, staff.ActViewReleases),
		"control":      staff.Can(c.Principal, staff.ActControlReleases),
		"staff":        staff.Can(c.Principal, staff.ActManageStaff),
		"distributors": staff.Can(c.Principal, staff.ActManageDistributors),
	}
}

// showError answers an operation's error inside the signed-in layout.
func (p *page) showError(c *Console, err error) {
	status, msg := failure(c, p.r, err)
	p.show(c, status, "error", view{Title: "Refused", Error: msg})
}

type searchData struct {
	Query string
	admin.SearchPage
	Searched bool
}

func (c *Console) search(p *page) {
	q := p.r.URL.Query()
	d := searchData{Query: q.Get("q")}
	if d.Query != "" || q.Has("all") {
		page, err := c.Admin.Search(p.r.Context(), p.caller, d.Query, q.Get("after"), 0)
		if err != nil {
			p.showError(c, err)
			return
		}
		d.SearchPage, d.Searched = page, true
	}
	p.show(c, http.StatusOK, "search", view{Title: "Customers", Data: d})
}

func (c *Console) customer(p *page) {
	// A before that is not a number shows the newest page.
	before, _ := strconv.ParseInt(p.r.URL.Query().Get("before"), 10, 64)
	d, err := c.Admin.CustomerPage(p.r.Context(), p.caller, p.r.PathValue("name"), admin.HistoryPage{Before: max(before, 0)})
	if err != nil {
		p.showError(c, err)
		return
	}
	p.show(c, http.StatusOK, "customer", view{Title: "Customer", Data: d})
}

type auditData struct {
	Customer, Actor, From, To string
	admin.EventPage
}

func (c *Console) audit(p *page) {
	q := p.r.URL.Query()
	d := auditData{Customer: q.Get("customer"), Actor: q.Get("actor"), From: q.Get("from"), To: q.Get("to")}
	aq := store.AuditQuery{Customer: d.Customer, Actor: d.Actor}
	var err error
	if aq.From, err = parseDay(d.From); err == nil {
		aq.To, err = parseDay(d.To)
	}
	if err != nil {
		p.show(c, http.StatusBadRequest, "audit", view{Title: "Audit log", Error: "Dates are written 2026-12-07.", Data: d})
		return
	}
	if !aq.To.IsZero() {
		aq.To = aq.To.Add(24 * time.Hour) // the day given is included
	}
	aq.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	page, err := c.Admin.Events(p.r.Context(), p.caller, aq)
	if err != nil {
		p.showError(c, err)
		return
	}
	d.EventPage = page
	p.show(c, http.StatusOK, "audit", view{Title: "Audit log", Data: d})
}

func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

func (c *Console) releases(p *page) {
	off, _ := strconv.Atoi(p.r.URL.Query().Get("offset"))
	page, err := c.Admin.Releases(p.r.Context(), p.caller, max(off, 0), 0)
	if err != nil {
		p.showError(c, err)
		return
	}
	d := releasesData{ReleasePage: page, Products: pageProducts(page), Product: p.r.URL.Query().Get("product")}
	if d.Product != "" {
		rows, err := c.Admin.ReleaseStatus(p.r.Context(), p.caller, d.Product)
		if err != nil {
			p.showError(c, err)
			return
		}
		d.Field = fieldRows(rows)
	}
	p.show(c, http.StatusOK, "releases", view{Title: "Releases", Data: d})
}

type staffData struct {
	Staff        []admin.StaffView
	Tokens       []admin.TokenView
	Distributors []string
}

func (c *Console) staffPage(p *page) {
	var d staffData
	var err error
	if d.Staff, err = c.Admin.ListStaff(p.r.Context(), p.caller); err != nil {
		p.showError(c, err)
		return
	}
	if d.Tokens, err = c.Admin.Tokens(p.r.Context(), p.caller, ""); err != nil {
		p.showError(c, err)
		return
	}
	if d.Distributors, err = c.Admin.Distributors(p.r.Context(), p.caller); err != nil {
		p.showError(c, err)
		return
	}
	p.show(c, http.StatusOK, "staff", view{Title: "Staff", Data: d})
}
