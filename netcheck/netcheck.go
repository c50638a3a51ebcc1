// Package netcheck diagnoses the connection to an update server and says,
// for each step that fails, what to do. It never prints: it returns a
// Report that the CLI formats.
package netcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Check names.
const (
	CheckURL    = "url"
	CheckDNS    = "dns"
	CheckTCP    = "tcp"
	CheckHealth = "health"
	CheckClock  = "clock"
)

// Result is one check's outcome. Remedy is set when it failed.
type Result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Remedy string `json:"remedy,omitempty"`
}

// Report is every check run, in order; a check whose prerequisite failed
// is not run.
type Report struct {
	Server        string   `json:"server"`
	Checks        []Result `json:"checks"`
	ServerVersion string   `json:"server_version,omitempty"`
}

// Reachable reports whether the server answered its health check.
func (r *Report) Reachable() bool {
	for _, c := range r.Checks {
		if c.Name == CheckHealth {
			return c.OK
		}
	}
	return false
}

// OK reports whether every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// MaxClockSkew is the difference from the server's clock beyond which
// signed answers may look expired or not yet valid.
const MaxClockSkew = 5 * time.Minute

// Client runs the checks. Zero values take working defaults.
type Client struct {
	HTTPClient *http.Client
	Resolver   *net.Resolver
	Now        func() time.Time
	Timeout    time.Duration // per step; default 10s
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 10 * time.Second
}

// Run checks the server at serverURL.
func (c *Client) Run(ctx context.Context, serverURL string) *Report {
	r := &Report{Server: serverURL}
	add := func(res Result) bool { r.Checks = append(r.Checks, res); return res.OK }

	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add(Result{Name: CheckURL, Detail: fmt.Sprintf("%q is not an http(s) URL", serverURL),
			Remedy: "pass the server's address as your vendor gave it, e.g. https://updates.example.com"})
		return r
	}
	add(Result{Name: CheckURL, OK: true, Detail: serverURL})
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if proxy, _ := http.ProxyFromEnvironment(&http.Request{URL: u}); proxy != nil {
		add(Result{Name: "proxy", OK: true, Detail: "connecting through the proxy " + proxy.Redacted()})
	}

	addrs := []string{host}
	if net.ParseIP(host) == nil {
		dctx, cancel := context.WithTimeout(ctx, c.timeout())
		resolver := c.Resolver
		if resolver == nil {
			resolver = net.DefaultResolver
		}
		addrs, err = resolver.LookupHost(dctx, host)
		cancel()
		if !add(dnsResult(host, addrs, err)) {
			return r
		}
	}

	var d net.Dialer
	tctx, cancel := context.WithTimeout(ctx, c.timeout())
	conn, err := d.DialContext(tctx, "tcp", net.JoinHostPort(addrs[0], port))
	cancel()
	if err != nil {
		add(Result{Name: CheckTCP, Detail: fmt.Sprintf("cannot connect to %s port %s: %v", host, port, err),
			Remedy: "the server is down or a firewall blocks the port; check that the server runs, or ask your network administrator"})
		return r
	}
	conn.Close()
	add(Result{Name: CheckTCP, OK: true, Detail: "connected to " + net.JoinHostPort(addrs[0], port)})

	c.health(ctx, u, r)
	return r
}

func dnsResult(host string, addrs []string, err error) Result {
	if err != nil || len(addrs) == 0 {
		return Result{Name: CheckDNS, Detail: fmt.Sprintf("cannot find %s: %v", host, err),
			Remedy: "check the server name for typos, and that this computer is connected to the Internet"}
	}
	return Result{Name: CheckDNS, OK: true, Detail: fmt.Sprintf("%s is %v", host, addrs)}
}

// health asks /healthz and compares clocks by the answer's Date.
func (c *Client) health(ctx context.Context, u *url.URL, r *Report) {
	hctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, _ := http.NewRequestWithContext(hctx, "GET", u.JoinPath("/healthz").String(), nil)
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		res := Result{Name: CheckHealth, Detail: fmt.Sprintf("no answer from %s: %v", u.Host, err),
			Remedy: "the server does not answer HTTP; check the address and port, and any proxy settings"}
		if isTLSError(err) {
			res.Remedy = "the server's certificate is not trusted or does not match its name; check the address, the computer's date, and any proxy that inspects HTTPS"
		}
		r.Checks = append(r.Checks, res)
		return
	}
	defer resp.Body.Close()
	var h struct {
		Status  string `json:"status"`
		Version string `json:"version"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &h) != nil || h.Status != "ok" {
		r.Checks = append(r.Checks, Result{Name: CheckHealth, Detail: fmt.Sprintf("%s answered %s, not an aktual health report", u.Host, resp.Status),
			Remedy: "this address is not an aktual update server, or it is unwell; check the address or ask your vendor"})
		return
	}
	r.ServerVersion = h.Version
	r.Checks = append(r.Checks, Result{Name: CheckHealth, OK: true, Detail: "the update server answers (version " + h.Version + ")"})

	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if date, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		skew := now().Sub(date)
		if skew < 0 {
			skew = -skew
		}
		res := Result{Name: CheckClock, OK: skew <= MaxClockSkew, Detail: fmt.Sprintf("this computer's clock differs from the server's by %s", skew.Round(time.Second))}
		if !res.OK {
			res.Remedy = "set this computer's date and time correctly (signed answers are refused when the clock is off)"
		}
		r.Checks = append(r.Checks, res)
	}
}

func isTLSError(err error) bool {
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var ierr x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &ierr)
}
