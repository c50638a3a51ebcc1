// Package adminapi is the admin API: JSON over HTTPS under /admin/v1/ on
// the admin listener, for the vendor's payment and support systems, each
// request signed in with `Authorization: Bearer TOKEN`. It decodes
// requests, asks package admin (which checks every request against the
// caller's role and distributor) and encodes the answers; the contract is
// docs/admin-api.md and its OpenAPI file, which a test holds to Routes.
package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// Prefix is where the API lives on the admin listener.
const Prefix = "/admin/v1/"

// API serves the admin API.
type API struct {
	Admin *admin.Admin
	// Proxies are the reverse proxies whose X-Forwarded-For is believed
	// (--trusted-proxy); none: the connection's address is the client's.
	Proxies staff.Proxies
	// Limit bounds requests per token (and failed ones per address),
	// counted in the database so it holds across replicas.
	Limit  staff.RequestLimit
	Logger *slog.Logger
	// Now is the limiter's clock (nil: the wall clock).
	Now func() time.Time
}

// Route is one operation of the API: its method and path pattern as the
// OpenAPI file writes them ({name} for a path parameter).
type Route struct {
	Method, Path string
	handle       func(*API, *request) (int, any, error)
}

// Routes lists every operation: the route table and the OpenAPI file must
// agree (TestOpenAPIMatchesRoutes).
func Routes() []Route {
	return []Route{
		{"GET", "/admin/v1/whoami", (*API).whoami},
		{"GET", "/admin/v1/customers", (*API).searchCustomers},
		{"GET", "/admin/v1/customers/{name}", (*API).customer},
		{"PATCH", "/admin/v1/customers/{name}", (*API).updateCustomer},
		{"POST", "/admin/v1/activations", (*API).activate},
		{"GET", "/admin/v1/entitlements/{id}", (*API).entitlement},
		{"POST", "/admin/v1/entitlements/{id}/updates", (*API).addUpdates},
		{"POST", "/admin/v1/entitlements/{id}/suspend", (*API).suspend},
		{"POST", "/admin/v1/entitlements/{id}/reinstate", (*API).reinstate},
		{"POST", "/admin/v1/entitlements/{id}/replace-key", (*API).replaceKey},
		{"POST", "/admin/v1/entitlements/{id}/reissue", (*API).reissue},
		{"POST", "/admin/v1/entitlements/{id}/corrections", (*API).correct},
		{"GET", "/admin/v1/audit", (*API).audit},
		{"GET", "/admin/v1/releases", (*API).releases},
		{"GET", "/admin/v1/releases/{product}/status", (*API).releaseStatus},
		{"POST", "/admin/v1/releases/{product}/{version}/rollout", (*API).rollout},
		{"POST", "/admin/v1/releases/{product}/{version}/halt", (*API).halt},
		{"POST", "/admin/v1/releases/{product}/{version}/resume", (*API).resume},
		{"POST", "/admin/v1/releases/{product}/{version}/yank", (*API).yank},
		{"GET", "/admin/v1/distributors", (*API).distributors},
		{"POST", "/admin/v1/distributors", (*API).addDistributor},
		{"GET", "/admin/v1/staff", (*API).listStaff},
		{"POST", "/admin/v1/staff", (*API).addStaff},
		{"POST", "/admin/v1/staff/{login}/disable", (*API).disableStaff},
		{"POST", "/admin/v1/staff/{login}/enable", (*API).enableStaff},
		{"POST", "/admin/v1/staff/{login}/reset-password", (*API).resetPassword},
		{"GET", "/admin/v1/tokens", (*API).listTokens},
		{"POST", "/admin/v1/tokens", (*API).createToken},
		{"POST", "/admin/v1/tokens/{id}/revoke", (*API).revokeToken},
	}
}

// request is one authenticated request.
type request struct {
	*http.Request
	w      http.ResponseWriter
	caller admin.Caller
}

// Handler serves every route, and a JSON 404 for any other path under
// Prefix.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		mux.Handle(rt.Method+" "+rt.Path, a.serve(rt))
	}
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, api.CodeNotFound, i18n.M("no such admin API route: %s %s; see docs/admin-api.md", r.Method, r.URL.Path))
	})
	return mux
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// serve authenticates, limits and runs one route.
func (a *API) serve(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := a.Proxies.ClientAddr(r)
		// Requests are limited by token; those without a valid token by
		// address, so guessing tokens is as slow as guessing passwords,
		// and a busy office behind one address is not held back by
		// another's script.
		token, ok := staff.ParseBearer(r.Header.Get("Authorization"))
		if ok && !staff.ValidToken(token) {
			// Not a token at all (its checksum is wrong): refused without
			// a database read or write, so garbage costs nothing.
			a.unauthorized(w, r, i18n.M("the token is unknown, revoked, or its account is disabled"))
			return
		}
		if !ok {
			if a.take(w, r, staff.AddressKey(addr)) {
				a.unauthorized(w, r, i18n.M("send the API token: Authorization: Bearer TOKEN (aktuald staff token makes one)"))
			}
			return
		}
		caller, err := a.Admin.TokenCaller(r.Context(), token, addr)
		if err != nil {
			if !errors.Is(err, admin.ErrUnauthorized) || a.take(w, r, staff.AddressKey(addr)) {
				a.answerError(w, r, err)
			}
			return
		}
		if !a.take(w, r, "token:"+caller.Actor) {
			return
		}
		status, body, err := rt.handle(a, &request{Request: r, w: w, caller: caller})
		if err != nil {
			a.answerError(w, r, err)
			return
		}
		if status == 0 { // the handler answered itself
			return
		}
		writeJSON(w, status, body)
	})
}

func (a *API) unauthorized(w http.ResponseWriter, r *http.Request, msg i18n.Localizable) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="aktual admin"`)
	writeError(w, r, http.StatusUnauthorized, "unauthorized", msg)
}

// take counts one request against key's limit; false: it answered 429.
func (a *API) take(w http.ResponseWriter, r *http.Request, key string) bool {
	ok, wait, err := a.Limit.Take(r.Context(), a.Admin.Store, key, a.now())
	if err != nil {
		a.answerError(w, r, err)
		return false
	}
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		writeError(w, r, http.StatusTooManyRequests, api.CodeRateLimited, i18n.M("too many requests; wait %d seconds and try again", int(wait.Round(time.Second)/time.Second)+1))
		return false
	}
	return true
}

// answerError answers an operation's error with its status.
func (a *API) answerError(w http.ResponseWriter, r *http.Request, err error) {
	var throttled *admin.ErrThrottled
	switch {
	case errors.Is(err, admin.ErrUnauthorized):
		a.unauthorized(w, r, err.(i18n.Localizable))
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter/time.Second)+1))
		writeError(w, r, http.StatusTooManyRequests, api.CodeRateLimited, localizable(err))
	case errors.Is(err, admin.ErrForbidden):
		writeError(w, r, http.StatusForbidden, "forbidden", localizable(err))
	case errors.Is(err, store.ErrNotFound):
		writeError(w, r, http.StatusNotFound, api.CodeNotFound, localizable(err))
	case errors.Is(err, admin.ErrInvalid):
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, localizable(err))
	case errors.Is(err, store.ErrIdempotencyMismatch):
		writeError(w, r, http.StatusUnprocessableEntity, "idempotency_mismatch", localizable(err))
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrExists), errors.Is(err, store.ErrWouldGoNegative):
		writeError(w, r, http.StatusConflict, api.CodeConflict, localizable(err))
	default:
		if a.Logger != nil {
			a.Logger.Error("admin API", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, r, http.StatusInternalServerError, api.CodeInternal, i18n.M("the server failed; the error is in its log"))
	}
}

// localizable is err's words in the reader's language when it has them.
func localizable(err error) i18n.Localizable {
	if l, ok := err.(i18n.Localizable); ok {
		return l
	}
	return i18n.M("%s", err.Error())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code string, msg i18n.Localizable) {
	p := i18n.NewPrinter(i18n.AcceptLanguage(r.Header.Get("Accept-Language")))
	w.Header().Set("Content-Language", p.Lang().String())
	writeJSON(w, status, api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: p.Sprint(msg)}})
}

// decode reads a bounded JSON object strictly (unknown fields refused).
func decode(r *request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(r.w, r.Body, api.MaxRequestBody))
	if err != nil {
		return admin.Refuse(admin.ErrInvalid, i18n.Errorf("could not read the request body (at most %d bytes)", api.MaxRequestBody))
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return admin.Refuse(admin.ErrInvalid, i18n.Errorf("the request body must be a JSON object"))
	}
	if err := api.DecodeStrict(body, v); err != nil {
		return admin.Refuse(admin.ErrInvalid, i18n.Errorf("the request body is not valid JSON of the expected shape: %v", err))
	}
	return nil
}
