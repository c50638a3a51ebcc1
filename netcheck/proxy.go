package netcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/i18n"
)

// proxyChoice is the proxy a request to the server goes through, and
// where it was set.
type proxyChoice struct {
	URL     *url.URL     // nil: none
	Setting i18n.Message // "the HTTPS_PROXY environment variable"
	// Why no proxy is used although one is set: the NO_PROXY variable
	// that exempts the server, or the server is on this computer.
	exemptBy string
	local    bool
}

// settingError: a proxy variable that is not an address. Go's HTTP
// client ignores it and connects directly.
type settingError struct{ name, value string }

func (e *settingError) Error() string { return e.name + " is not a proxy address" }

func (c *Client) chooseProxy(u *url.URL) (proxyChoice, error) {
	if c.Proxy == nil {
		return envProxy(os.Getenv, u)
	}
	p, err := c.Proxy(u)
	return proxyChoice{URL: p, Setting: i18n.M("the proxy setting")}, err
}

// envProxy chooses as golang.org/x/net/http/httpproxy does (and with it
// http.ProxyFromEnvironment, which the updater uses), but reads the
// environment at each call: HTTPS_PROXY for https, HTTP_PROXY for http,
// upper case before lower; never for localhost or a loopback address,
// nor for a host NO_PROXY names.
func envProxy(getenv func(string) string, u *url.URL) (proxyChoice, error) {
	name, value := firstEnv(getenv, "HTTP_PROXY", "http_proxy")
	if u.Scheme == "https" {
		name, value = firstEnv(getenv, "HTTPS_PROXY", "https_proxy")
	}
	if value == "" {
		return proxyChoice{}, nil
	}
	pc := proxyChoice{Setting: i18n.M("the %s environment variable", name)}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = defaultPort[u.Scheme]
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		pc.local = true
		return pc, nil
	}
	if noName, noValue := firstEnv(getenv, "NO_PROXY", "no_proxy"); noProxyMatches(noValue, host, port) {
		pc.exemptBy = noName
		return pc, nil
	}
	p, err := parseProxy(value)
	if err != nil {
		return pc, &settingError{name, value}
	}
	pc.URL = p
	return pc, nil
}

func firstEnv(getenv func(string) string, names ...string) (name, value string) {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return n, v
		}
	}
	return names[0], ""
}

// parseProxy reads a proxy address; "proxy:8080" means http://proxy:8080.
func parseProxy(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if u2, err2 := url.Parse("http://" + s); err2 == nil && u2.Host != "" {
			return u2, nil
		}
		if err == nil {
			err = errors.New("no host")
		}
	}
	return u, err
}

// noProxyMatches: a comma-separated list of names (a name exempts its
// subdomains too; ".name" and "*.name" only those), IP addresses and
// CIDR ranges, each with an optional port; "*" exempts every host.
func noProxyMatches(list, host, port string) bool {
	ip := net.ParseIP(host)
	for _, p := range strings.Split(list, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p == "*" {
			return true
		}
		if _, n, err := net.ParseCIDR(p); err == nil {
			if ip != nil && n.Contains(ip) {
				return true
			}
			continue
		}
		phost, pport, err := net.SplitHostPort(p)
		if err != nil {
			phost, pport = p, ""
		}
		if phost == "" {
			continue
		}
		if pip := net.ParseIP(phost); pip != nil {
			if ip != nil && pip.Equal(ip) && (pport == "" || pport == port) {
				return true
			}
			continue
		}
		// "*.name" means ".name", as golang.org/x/net/http/httpproxy reads
		// it; a lone "*" with a port, or "*x", names no host.
		if strings.HasPrefix(phost, "*.") {
			phost = phost[1:]
		}
		if phost == "." || strings.HasPrefix(phost, "*") {
			continue
		}
		matchHost := phost[0] != '.'
		if matchHost {
			phost = "." + phost
		}
		if (strings.HasSuffix(host, phost) || matchHost && host == phost[1:]) && (pport == "" || pport == port) {
			return true
		}
	}
	return false
}

func (k *checker) checkProxy(ctx context.Context) bool {
	pc, err := k.c.chooseProxy(k.u)
	k.proxy = pc
	if se := (*settingError)(nil); errors.As(err, &se) {
		k.proxy.URL = nil
		return k.add(Result{Name: CheckProxy, OK: true, Warning: true,
			Detail: i18n.M("%s is %q, which is not a proxy address, so no proxy is used", se.name, se.value),
			Remedy: i18n.M("correct %s (e.g. http://proxy.example.com:8080), or remove it", se.name)})
	}
	if err != nil {
		return k.add(Result{Name: CheckProxy,
			Detail: i18n.M("the proxy setting is not valid: %v", err),
			Remedy: i18n.M("correct the proxy setting, or ask your network administrator")})
	}
	p := pc.URL
	switch {
	case p == nil && pc.local:
		return k.add(Result{Name: CheckProxy, OK: true, Detail: i18n.M("no proxy: %s is on this computer", k.host)})
	case p == nil && pc.exemptBy != "":
		return k.add(Result{Name: CheckProxy, OK: true, Detail: i18n.M("no proxy: %s exempts %s", pc.exemptBy, k.host)})
	case p == nil:
		return k.add(Result{Name: CheckProxy, OK: true, Detail: i18n.M("no proxy: connecting directly")})
	}
	display := p.Redacted()
	remedy := i18n.M("check the proxy in %s: correct it or remove it, or ask your network administrator", pc.Setting)
	if _, ok := defaultPort[p.Scheme]; !ok {
		return k.add(Result{Name: CheckProxy,
			Detail: i18n.M("the proxy %s is of a kind (%s) that aktual cannot use", display, p.Scheme),
			Remedy: i18n.M("give an http:// address for the proxy in %s", pc.Setting)})
	}
	phost, pport := p.Hostname(), p.Port()
	if pport == "" {
		pport = defaultPort[p.Scheme]
	}
	addrs := []string{phost}
	if net.ParseIP(phost) == nil {
		if addrs, err = k.lookup(ctx, phost); err != nil {
			return k.add(Result{Name: CheckProxy, Detail: i18n.M("the proxy's name %s cannot be looked up: %v", phost, err), Remedy: remedy})
		}
	}
	conn, err := k.dialAny(ctx, addrs, pport)
	if err != nil {
		r := Result{Name: CheckProxy, Detail: i18n.M("cannot connect to the proxy %s: %v", display, err), Remedy: remedy}
		switch connectFailure(err) {
		case refused:
			r.Detail = i18n.M("the proxy %s refuses connections: no proxy runs at that address", display)
		case timedOut:
			r.Detail = i18n.M("the proxy %s did not answer within %s", display, span(k.c.timeout()))
		case unreachable:
			r.Detail = i18n.M("the proxy %s cannot be reached: the network is unreachable", display)
		}
		return k.add(r)
	}
	if p.Scheme == "https" {
		cfg := k.c.tlsConfig()
		cfg.ServerName = phost
		tc := tls.Client(conn, cfg)
		hctx, cancel := context.WithTimeout(ctx, k.c.timeout())
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return k.add(Result{Name: CheckProxy, Detail: i18n.M("the secure connection (TLS) to the proxy %s failed: %v", display, err), Remedy: remedy})
		}
		conn = tc
	}
	k.conn = conn
	return k.add(Result{Name: CheckProxy, OK: true, Detail: i18n.M("connecting through the proxy %s, set in %s; it accepts connections", display, pc.Setting)})
}

// checkTCPViaProxy asks an HTTP proxy to connect to the server (CONNECT),
// as the HTTP client does for https. Plain-http requests and SOCKS
// proxies connect per request: the health check tests those.
func (k *checker) checkTCPViaProxy(ctx context.Context) bool {
	target := net.JoinHostPort(k.host, k.port)
	p := k.proxy.URL
	if k.u.Scheme != "https" || strings.HasPrefix(p.Scheme, "socks") {
		k.closeConn()
		return k.add(Result{Name: CheckTCP, OK: true, Detail: i18n.M("the proxy connects to %s for each request", target)})
	}
	ctx, cancel := context.WithTimeout(ctx, k.c.timeout())
	defer cancel()
	status, err := connectTunnel(ctx, k.conn, p, target)
	switch {
	case err != nil && isTimeout(err):
		k.closeConn()
		return k.add(Result{Name: CheckTCP,
			Detail: i18n.M("the proxy did not connect to %s within %s", target, span(k.c.timeout())),
			Remedy: i18n.M("the server is down or your network blocks it: try again later, or ask your network administrator")})
	case err != nil:
		k.closeConn()
		return k.add(Result{Name: CheckTCP,
			Detail: i18n.M("the proxy did not answer the request to connect to %s: %v", target, err),
			Remedy: i18n.M("check the proxy in %s: correct it or remove it, or ask your network administrator", k.proxy.Setting)})
	case status == http.StatusOK:
		return k.add(Result{Name: CheckTCP, OK: true, Detail: i18n.M("the proxy connected to %s", target)})
	}
	k.closeConn()
	r := Result{Name: CheckTCP,
		Detail: i18n.M("the proxy does not let this computer connect to %s (it answered HTTP %d)", target, status),
		Remedy: i18n.M("ask your network administrator to allow connections to %s through the proxy", target)}
	switch status {
	case http.StatusProxyAuthRequired:
		r.Detail = i18n.M("the proxy asks for a user name and password")
		r.Remedy = i18n.M("put them in %s as http://user:password@proxy:port, or ask your network administrator", k.proxy.Setting)
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		r.Detail = i18n.M("the proxy cannot reach %s (it answered HTTP %d)", target, status)
		r.Remedy = i18n.M("check the server's address; if it is right, the server is down or your network blocks it: try again later, or ask your network administrator")
	}
	return k.add(r)
}

// connectTunnel sends CONNECT target on conn and returns the proxy's
// status; on 200, conn is a tunnel to target.
func connectTunnel(ctx context.Context, conn net.Conn, proxy *url.URL, target string) (int, error) {
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if u := proxy.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	err := req.Write(conn)
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(bufio.NewReader(conn), req)
	}
	if !stop() {
		return 0, ctx.Err()
	}
	if err != nil {
		return 0, err
	}
	// The body is not read: on 200 the tunnel follows, else the caller
	// closes conn.
	return resp.StatusCode, nil
}

// aLongTimeAgo, as a deadline, unblocks a read or write at once.
var aLongTimeAgo = time.Unix(1, 0)
