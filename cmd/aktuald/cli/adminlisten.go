package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/console"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/staff"
)

// adminOptions are serve's flags for the admin listener: the console and
// the admin API, apart from the update API so that it can stay on the
// office network.
type adminOptions struct {
	addr         string
	trustedProxy []string
	insecureHTTP bool
}

// checkAdminAddr refuses a plain-HTTP admin listener anywhere but on a
// loopback address, unless told it sits behind a TLS-terminating proxy:
// staff passwords and session cookies must not cross a network in clear.
func (o adminOptions) check(tls bool) error {
	if o.addr == "" || tls || o.insecureHTTP {
		return nil
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return usagef("--admin-addr %s: %v; give HOST:PORT, e.g. 127.0.0.1:8421", o.addr, err)
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() || host == "localhost" {
		return nil
	}
	return usagef("--admin-addr %s would serve staff passwords in plain HTTP: give --tls-cert and --tls-key, listen on a loopback address behind an HTTPS proxy (with --trusted-proxy), or say --admin-insecure-http if a proxy on the same host terminates TLS", o.addr)
}

// adminServer makes the admin listener's server: the admin API under
// /admin/v1/, the console everywhere else.
func (o adminOptions) server(inst *datadir.Instance, https bool, logger *slog.Logger) (*http.Server, error) {
	proxies, err := staff.ParseProxies(o.trustedProxy)
	if err != nil {
		return nil, usagef("--trusted-proxy: %v", err)
	}
	site := console.Site(admin.New(inst), proxies, staff.DefaultRequestLimit, logger, https)
	srv := server.HTTPServer(o.addr, site)
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	return srv, nil
}

// listenAdmin opens the admin listener; its URL for the log.
func (o adminOptions) listen(https bool) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, "", usagef("cannot listen on %s: %v; choose another --admin-addr", o.addr, err)
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return ln, fmt.Sprintf("%s://%s/", scheme, ln.Addr()), nil
}
