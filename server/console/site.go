package console

import (
	"log/slog"
	"net/http"

	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/adminapi"
	"github.com/aktual/aktual/server/staff"
)

// Site is the admin listener's whole handler: the admin API under
// /admin/v1/ and the console everywhere else, with the security headers
// every answer carries. https says the listener serves HTTPS (HSTS).
func Site(adm *admin.Admin, proxies staff.Proxies, limit staff.RequestLimit, logger *slog.Logger, https bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(adminapi.Prefix, (&adminapi.API{Admin: adm, Proxies: proxies, Limit: limit, Logger: logger}).Handler())
	mux.Handle("/", (&Console{Admin: adm, Proxies: proxies, Logger: logger, Secure: https}).Handler())
	return adminapi.SecureHeaders(mux, https)
}
