// Package netcheck diagnoses the connection to an update server step by
// step — address, proxy, DNS, TCP, TLS, the server's health, the clock —
// and says, for a step that fails, what is wrong and what to do. It never
// prints: it returns a Report whose messages the CLI shows in the reader's
// language.
package netcheck

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/internal/i18n"
)

// Check names: stable ids, in the order the checks run.
const (
	CheckURL    = "url"
	CheckProxy  = "proxy"
	CheckDNS    = "dns"
	CheckTCP    = "tcp"
	CheckTLS    = "tls"
	CheckHealth = "health"
	CheckClock  = "clock"
)

const (
	// DefaultTimeout bounds each step when Client.Timeout is zero.
	DefaultTimeout = 10 * time.Second
	// MaxClockSkew is the difference from the server's clock beyond which
	// signed answers may look expired or not yet valid.
	MaxClockSkew = 5 * time.Minute
	// CertWarning: a certificate that expires sooner is reported with a
	// warning.
	CertWarning = 14 * 24 * time.Hour
	// maxAddrsShown: a name with more addresses (a CDN) shows the first.
	maxAddrsShown = 4
	// maxHealthBody bounds the read of /healthz.
	maxHealthBody = 4 << 10
)

// Result is one check's outcome. A failed check has a Remedy; a check
// that passed with a Warning may have one too.
type Result struct {
	Name    string       `json:"name"`
	OK      bool         `json:"ok"`
	Warning bool         `json:"warning"`
	Detail  i18n.Message `json:"detail"`
	Remedy  i18n.Message `json:"remedy"`
}

// Report is every check run, in order. The checks stop at the first
// failure, except the clock, which follows a healthy server.
type Report struct {
	Server        string   `json:"server"`
	ServerVersion string   `json:"server_version"`
	Checks        []Result `json:"checks"`
}

// Reachable reports whether the server answered its health check.
func (r *Report) Reachable() bool {
	c := r.Check(CheckHealth)
	return c != nil && c.OK
}

// OK reports whether every check passed (warnings allowed).
func (r *Report) OK() bool {
	return len(r.Checks) > 0 && r.FirstFailure() == nil
}

// FirstFailure is the first check that failed, or nil.
func (r *Report) FirstFailure() *Result {
	for i := range r.Checks {
		if !r.Checks[i].OK {
			return &r.Checks[i]
		}
	}
	return nil
}

// Check is the result of the named check, or nil when it did not run.
func (r *Report) Check(name string) *Result {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// Client runs the checks. The zero value works: system DNS, system trust
// roots, the proxy from the environment, the local clock.
type Client struct {
	// HTTPClient sends the health request. Default: one that uses Proxy,
	// TLSConfig and Resolver, so that it takes the path the checks took.
	HTTPClient *http.Client
	// TLSConfig holds the trust roots (RootCAs) of the tls check and the
	// default health request. Default: HTTPClient's, else the system's.
	TLSConfig *tls.Config
	// Proxy chooses the proxy for a URL, as http.Transport.Proxy does.
	// Default: HTTPS_PROXY, HTTP_PROXY and NO_PROXY, read at each run.
	Proxy func(*url.URL) (*url.URL, error)
	// Resolver looks names up. Default: net.DefaultResolver.
	Resolver *net.Resolver
	// Now is this computer's clock; nil reads the wall clock.
	Now clock.Func
	// Timeout bounds each step. Default: DefaultTimeout.
	Timeout time.Duration
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) resolver() *net.Resolver {
	if c.Resolver != nil {
		return c.Resolver
	}
	return net.DefaultResolver
}

// tlsConfig is a copy of the configuration whose roots are trusted.
func (c *Client) tlsConfig() *tls.Config {
	if c.TLSConfig != nil {
		return c.TLSConfig.Clone()
	}
	if c.HTTPClient != nil {
		if t, ok := c.HTTPClient.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
			return t.TLSClientConfig.Clone()
		}
	}
	return &tls.Config{}
}

// Run checks the server at serverURL: Quick's steps, then the health
// request and the clock.
func (c *Client) Run(ctx context.Context, serverURL string) *Report {
	k := &checker{c: c, rep: &Report{Server: serverURL}}
	defer k.closeConn()
	if k.quick(ctx) {
		k.closeConn() // the health request makes its own connection
		k.checkHealth(ctx)
	}
	return k.rep
}

// Quick runs the steps that need no HTTP — url, proxy, dns, tcp, tls —
// to name the step that fails when a request cannot reach the server.
func (c *Client) Quick(ctx context.Context, serverURL string) *Report {
	k := &checker{c: c, rep: &Report{Server: serverURL}}
	defer k.closeConn()
	k.quick(ctx)
	return k.rep
}

// checker is the state of one run, passed from step to step.
type checker struct {
	c          *Client
	rep        *Report
	u          *url.URL
	host, port string
	proxy      proxyChoice
	addrs      []string // the server's addresses (no proxy)
	conn       net.Conn // after tcp: to the server, or a tunnel through the proxy
}

func (k *checker) add(r Result) bool {
	k.rep.Checks = append(k.rep.Checks, r)
	return r.OK
}

func (k *checker) closeConn() {
	if k.conn != nil {
		k.conn.Close()
		k.conn = nil
	}
}

func (k *checker) quick(ctx context.Context) bool {
	for _, step := range []func(context.Context) bool{k.checkURL, k.checkProxy, k.checkDNS, k.checkTCP, k.checkTLS} {
		if !step(ctx) {
			return false
		}
	}
	return true
}

func (k *checker) checkURL(context.Context) bool {
	u, err := url.Parse(k.rep.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return k.add(Result{Name: CheckURL,
			Detail: i18n.M("%q is not an http(s) address", k.rep.Server),
			Remedy: i18n.M("give the server's address as your vendor gave it, e.g. https://updates.example.com")})
	}
	k.u, k.host, k.port = u, u.Hostname(), u.Port()
	if k.port == "" {
		k.port = defaultPort[u.Scheme]
	}
	return k.add(Result{Name: CheckURL, OK: true, Detail: i18n.M("%s, port %s", u.Redacted(), k.port)})
}

var defaultPort = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}

func (k *checker) checkDNS(ctx context.Context) bool {
	if k.proxy.URL != nil {
		return k.add(Result{Name: CheckDNS, OK: true, Detail: i18n.M("the proxy looks up %s, not this computer", k.host)})
	}
	if net.ParseIP(k.host) != nil {
		k.addrs = []string{k.host}
		return k.add(Result{Name: CheckDNS, OK: true, Detail: i18n.M("%s is an IP address: there is no name to look up", k.host)})
	}
	addrs, err := k.lookup(ctx, k.host)
	if err != nil {
		r := Result{Name: CheckDNS,
			Detail: i18n.M("the name %s cannot be looked up: %v", k.host, err),
			Remedy: i18n.M("check the server's address for typos; if it is right, check this computer's Internet connection, or ask your network administrator")}
		switch {
		case isNotFound(err):
			r.Detail = i18n.M("the name %s is not found in DNS", k.host)
		case isTimeout(err):
			r.Detail = i18n.M("looking up the name %s took longer than %s", k.host, span(k.c.timeout()))
			r.Remedy = i18n.M("the DNS server does not answer: check this computer's Internet connection, or ask your network administrator")
		}
		return k.add(r)
	}
	k.addrs = addrs
	shown := strings.Join(addrs[:min(len(addrs), maxAddrsShown)], ", ")
	if len(addrs) > maxAddrsShown {
		shown += ", …"
	}
	return k.add(Result{Name: CheckDNS, OK: true, Detail: i18n.M("the name %s resolves to %s", k.host, shown)})
}

// lookup resolves a name within the step's time.
func (k *checker) lookup(ctx context.Context, host string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, k.c.timeout())
	defer cancel()
	addrs, err := k.c.resolver().LookupHost(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, err
}

func (k *checker) checkTCP(ctx context.Context) bool {
	if k.proxy.URL != nil {
		return k.checkTCPViaProxy(ctx)
	}
	conn, err := k.dialAny(ctx, k.addrs, k.port)
	target := net.JoinHostPort(k.host, k.port)
	if err != nil {
		r := Result{Name: CheckTCP,
			Detail: i18n.M("cannot connect to %s: %v", target, err),
			Remedy: i18n.M("check this computer's Internet connection; if it works, ask your network administrator")}
		switch connectFailure(err) {
		case refused:
			r.Detail = i18n.M("%s refused the connection: nothing answers on that port, or a firewall refuses it", target)
			r.Remedy = i18n.M("check the address and port your vendor gave; if they are right, the update server is not running: try again later, or tell your vendor")
		case timedOut:
			r.Detail = i18n.M("%s did not answer within %s", target, span(k.c.timeout()))
			r.Remedy = i18n.M("the server is down, or a firewall drops the connection to port %s: try again later, and ask your network administrator whether that port is open", k.port)
		case unreachable:
			r.Detail = i18n.M("%s cannot be reached: the network is unreachable", target)
			r.Remedy = i18n.M("check that this computer is connected to the network (cable, Wi-Fi, VPN)")
		}
		return k.add(r)
	}
	k.conn = conn
	return k.add(Result{Name: CheckTCP, OK: true, Detail: i18n.M("connected to %s", conn.RemoteAddr().String())})
}

// dialAny connects to the first of addrs that answers, within the step's
// time; of several failures it returns the most telling.
func (k *checker) dialAny(ctx context.Context, addrs []string, port string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, k.c.timeout())
	defer cancel()
	var d net.Dialer
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a, port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	for _, want := range []failure{refused, timedOut} {
		for _, err := range errs {
			if connectFailure(err) == want {
				return nil, err
			}
		}
	}
	return nil, errs[0]
}

// span is a duration as a person says it: "10 seconds", "2 hours and
// 5 minutes".
func span(d time.Duration) i18n.Message {
	d = d.Abs()
	if d >= time.Minute {
		d = d.Round(time.Minute)
	}
	switch {
	case d < time.Minute:
		return i18n.M("%d seconds", int((d+time.Second-1)/time.Second))
	case d < time.Hour:
		return i18n.M("%d minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return i18n.M("%d hours", h)
		}
		return i18n.M("%s and %s", i18n.M("%d hours", h), i18n.M("%d minutes", m))
	}
	return i18n.M("%d days", int(d/(24*time.Hour)))
}
