package adminapi

import (
	"net/http"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/store"
)

// Release control (issue 20) on the admin API: the status of a product's
// releases, and rollout, halt, resume and withdraw, each the admin
// operation `aktuald release …` runs, checked against the token's role
// (control-releases: admin and office).

// rolloutBody is the body of a rollout.
type rolloutBody struct {
	Percent *int   `json:"percent"`
	Reason  string `json:"reason"`
}

func (a *API) releaseStatus(r *request) (int, any, error) {
	off, limit, err := offsetLimit(r)
	if err != nil {
		return 0, nil, err
	}
	product := r.PathValue("product")
	rows, err := a.Admin.ReleaseStatus(r.Context(), r.caller, product)
	if err != nil {
		return 0, nil, err
	}
	if len(rows) == 0 {
		return 0, nil, admin.Refuse(store.ErrNotFound, i18n.Errorf("nothing of %s is published or reported; GET /admin/v1/releases lists the products", product))
	}
	items, next, err := admin.Page(rows, off, limit)
	return http.StatusOK, admin.ReleaseStatusPage{Product: product, Releases: items, Next: next}, err
}

func (a *API) rollout(r *request) (int, any, error) {
	var body rolloutBody
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	if body.Percent == nil {
		return 0, nil, admin.Refuse(admin.ErrInvalid, i18n.Errorf("say how far the rollout reaches: \"percent\", 0 to 100"))
	}
	c, err := a.Admin.Rollout(r.Context(), r.caller, r.PathValue("product"), r.PathValue("version"), *body.Percent, body.Reason)
	return http.StatusOK, admin.ViewOf(c), err
}

func (a *API) halt(r *request) (int, any, error)   { return a.haltOrResume(r, false) }
func (a *API) resume(r *request) (int, any, error) { return a.haltOrResume(r, true) }

func (a *API) haltOrResume(r *request, resume bool) (int, any, error) {
	var body reasoned
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	do := a.Admin.Halt
	if resume {
		do = a.Admin.Resume
	}
	c, err := do(r.Context(), r.caller, r.PathValue("product"), r.PathValue("version"), body.Reason)
	return http.StatusOK, admin.ViewOf(c), err
}

func (a *API) yank(r *request) (int, any, error) {
	var body reasoned
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	y, err := a.Admin.Yank(r.Context(), r.caller, r.PathValue("product"), r.PathValue("version"), body.Reason)
	return http.StatusOK, admin.ViewOfYank(y), err
}
