package adminapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/store"
)

// queryInt reads an optional non-negative integer query parameter.
func queryInt(r *request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, admin.Refuse(admin.ErrInvalid, i18n.Errorf("%s must be a whole number, 0 or more", name))
	}
	return n, nil
}

// queryTime reads an optional time: RFC 3339, or a date (midnight UTC).
func queryTime(r *request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, admin.Refuse(admin.ErrInvalid, i18n.Errorf("%s must be a date (2026-12-07) or a time (2026-12-07T09:30:00Z)", name))
}

// pathID reads the {id} path parameter.
func pathID(r *request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n < 1 {
		return 0, admin.Refuse(admin.ErrInvalid, i18n.Errorf("the id in the path must be a whole number"))
	}
	return n, nil
}

func (a *API) whoami(r *request) (int, any, error) {
	c := r.caller
	return http.StatusOK, map[string]string{"login": c.Login, "role": c.Role, "distributor": c.Distributor, "token": c.Token, "actor": c.Actor}, nil
}

func (a *API) searchCustomers(r *request) (int, any, error) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	page, err := a.Admin.Search(r.Context(), r.caller, q.Get("q"), q.Get("after"), int(min(limit, 1000)))
	return http.StatusOK, page, err
}

func (a *API) customer(r *request) (int, any, error) {
	before, err := queryInt(r, "before")
	if err != nil {
		return 0, nil, err
	}
	limit, err := queryInt(r, "history_limit")
	if err != nil {
		return 0, nil, err
	}
	d, err := a.Admin.CustomerPage(r.Context(), r.caller, r.PathValue("name"), admin.HistoryPage{Before: before, Limit: int(min(limit, 1000))})
	return http.StatusOK, d, err
}

func (a *API) updateCustomer(r *request) (int, any, error) {
	var body admin.CustomerChange
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	d, err := a.Admin.UpdateCustomer(r.Context(), r.caller, r.PathValue("name"), body)
	return http.StatusOK, d, err
}

func (a *API) activate(r *request) (int, any, error) {
	var body admin.ActivateRequest
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	out, err := a.Admin.Activate(r.Context(), r.caller, body)
	if out.Replayed {
		return http.StatusOK, out, err
	}
	return http.StatusCreated, out, err
}

func (a *API) entitlement(r *request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	c, err := a.Admin.Entitlement(r.Context(), r.caller, id)
	return http.StatusOK, c, err
}

// reasoned is the body of the changes that need only a reason.
type reasoned struct {
	Reason string `json:"reason"`
}

func (a *API) suspend(r *request) (int, any, error)   { return a.setActive(r, false) }
func (a *API) reinstate(r *request) (int, any, error) { return a.setActive(r, true) }

// changeOf decodes the body B of a change to entitlement {id} and makes
// it with do.
func changeOf[B any, R any](r *request, do func(ctx context.Context, id int64, body B) (R, error)) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	var body B
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	out, err := do(r.Context(), id, body)
	return http.StatusOK, out, err
}

func (a *API) addUpdates(r *request) (int, any, error) {
	return changeOf(r, func(ctx context.Context, id int64, b admin.AddRequest) (admin.Outcome, error) {
		return a.Admin.AddUpdates(ctx, r.caller, id, b)
	})
}

func (a *API) setActive(r *request, active bool) (int, any, error) {
	return changeOf(r, func(ctx context.Context, id int64, b reasoned) (admin.Credential, error) {
		if active {
			return a.Admin.Reinstate(ctx, r.caller, id, b.Reason)
		}
		return a.Admin.Suspend(ctx, r.caller, id, b.Reason)
	})
}

func (a *API) replaceKey(r *request) (int, any, error) {
	type replacement struct {
		HWKey  string `json:"hwkey"`
		Reason string `json:"reason"`
	}
	return changeOf(r, func(ctx context.Context, id int64, b replacement) (admin.Credential, error) {
		return a.Admin.ReplaceKey(ctx, r.caller, id, b.HWKey, b.Reason)
	})
}

func (a *API) reissue(r *request) (int, any, error) {
	return changeOf(r, func(ctx context.Context, id int64, b reasoned) (admin.Reissued, error) {
		return a.Admin.Reissue(ctx, r.caller, id, b.Reason)
	})
}

func (a *API) correct(r *request) (int, any, error) {
	type correction struct {
		Updates int64  `json:"updates"`
		Reason  string `json:"reason"`
	}
	return changeOf(r, func(ctx context.Context, id int64, b correction) (admin.Credential, error) {
		return a.Admin.Correct(ctx, r.caller, id, b.Updates, b.Reason)
	})
}

func (a *API) audit(r *request) (int, any, error) {
	var q store.AuditQuery
	var err error
	if q.From, err = queryTime(r, "from"); err != nil {
		return 0, nil, err
	}
	if q.To, err = queryTime(r, "to"); err != nil {
		return 0, nil, err
	}
	if q.Before, err = queryInt(r, "before"); err != nil {
		return 0, nil, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	q.Limit = int(min(limit, 1000))
	q.Customer, q.Actor = r.URL.Query().Get("customer"), r.URL.Query().Get("actor")
	page, err := a.Admin.Events(r.Context(), r.caller, q)
	return http.StatusOK, page, err
}

func offsetLimit(r *request) (int, int, error) {
	off, err := queryInt(r, "offset")
	if err != nil {
		return 0, 0, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return 0, 0, err
	}
	return int(min(off, 1<<30)), int(min(limit, 1000)), nil
}

func (a *API) releases(r *request) (int, any, error) {
	off, limit, err := offsetLimit(r)
	if err != nil {
		return 0, nil, err
	}
	page, err := a.Admin.Releases(r.Context(), r.caller, off, limit)
	return http.StatusOK, page, err
}

func (a *API) distributors(r *request) (int, any, error) {
	return listed(r, "distributors", func() ([]string, error) { return a.Admin.Distributors(r.Context(), r.caller) })
}

// listed answers one page, by offset, of a list of at most a few hundred
// items (staff, tokens, distributors) as {name: […], "next": offset}.
func listed[T any](r *request, name string, list func() ([]T, error)) (int, any, error) {
	off, limit, err := offsetLimit(r)
	if err != nil {
		return 0, nil, err
	}
	all, err := list()
	if err != nil {
		return 0, nil, err
	}
	items, next, err := admin.Page(all, off, limit)
	return http.StatusOK, map[string]any{name: items, "next": next}, err
}

func (a *API) addDistributor(r *request) (int, any, error) {
	var body struct {
		Name string `json:"name"`
	}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	err := a.Admin.AddDistributor(r.Context(), r.caller, body.Name)
	return http.StatusCreated, map[string]string{"name": strings.TrimSpace(body.Name)}, err
}

func (a *API) listStaff(r *request) (int, any, error) {
	return listed(r, "staff", func() ([]admin.StaffView, error) { return a.Admin.ListStaff(r.Context(), r.caller) })
}

func (a *API) addStaff(r *request) (int, any, error) {
	var body struct {
		Login       string `json:"login"`
		Role        string `json:"role"`
		Distributor string `json:"distributor,omitempty"`
	}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	n, err := a.Admin.AddStaff(r.Context(), r.caller, body.Login, body.Role, body.Distributor)
	return http.StatusCreated, n, err
}

func (a *API) disableStaff(r *request) (int, any, error) { return a.setDisabled(r, true) }
func (a *API) enableStaff(r *request) (int, any, error)  { return a.setDisabled(r, false) }

func (a *API) setDisabled(r *request, disabled bool) (int, any, error) {
	var body reasoned
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	v, err := a.Admin.SetDisabled(r.Context(), r.caller, r.PathValue("login"), disabled, body.Reason)
	return http.StatusOK, v, err
}

func (a *API) resetPassword(r *request) (int, any, error) {
	n, err := a.Admin.ResetPassword(r.Context(), r.caller, r.PathValue("login"))
	return http.StatusOK, n, err
}

func (a *API) listTokens(r *request) (int, any, error) {
	return listed(r, "tokens", func() ([]admin.TokenView, error) {
		return a.Admin.Tokens(r.Context(), r.caller, r.URL.Query().Get("login"))
	})
}

func (a *API) createToken(r *request) (int, any, error) {
	var body struct {
		Login string `json:"login"`
		Name  string `json:"name"`
		Role  string `json:"role,omitempty"`
	}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	t, err := a.Admin.CreateToken(r.Context(), r.caller, body.Login, body.Name, body.Role)
	return http.StatusCreated, t, err
}

func (a *API) revokeToken(r *request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	var body reasoned
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	err = a.Admin.RevokeToken(r.Context(), r.caller, id, body.Reason)
	return http.StatusOK, map[string]any{"id": id, "revoked": err == nil}, err
}
