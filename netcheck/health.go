package netcheck

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/i18n"
)

// health is the body of /healthz (api.Health).
type health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// httpClient is the HTTPClient, or one that takes the checks' path: the
// proxy chosen, the trust roots, the resolver.
func (k *checker) httpClient() *http.Client {
	if k.c.HTTPClient != nil {
		return k.c.HTTPClient
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:             http.ProxyURL(k.proxy.URL),
		DialContext:       (&net.Dialer{Resolver: k.c.Resolver}).DialContext,
		TLSClientConfig:   k.c.tlsConfig(),
		ForceAttemptHTTP2: true,
		DisableKeepAlives: true,
	}}
}

// checkHealth asks GET /healthz, then compares clocks by the answer's Date.
func (k *checker) checkHealth(ctx context.Context) bool {
	host := k.u.Host
	ctx, cancel := context.WithTimeout(ctx, k.c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(k.rep.Server, "/")+"/healthz", nil)
	if err != nil {
		return k.add(Result{Name: CheckHealth,
			Detail: i18n.M("no answer from %s: %v", host, err),
			Remedy: i18n.M("check the address and this computer's Internet connection; if they are right, ask your network administrator")})
	}
	hc := k.httpClient()
	if hc != k.c.HTTPClient {
		defer hc.CloseIdleConnections()
	}
	resp, err := hc.Do(req)
	if err != nil {
		r := Result{Name: CheckHealth,
			Detail: i18n.M("no answer from %s: %v", host, err),
			Remedy: i18n.M("check the address and this computer's Internet connection; if they are right, ask your network administrator")}
		if isTimeout(err) {
			r.Detail = i18n.M("%s accepted the connection but sent no answer within %s", host, span(k.c.timeout()))
			r.Remedy = i18n.M("the server is overloaded, or something between (a proxy or firewall) holds the request: try again later; if it lasts, tell your vendor")
		}
		return k.add(r)
	}
	received := k.c.Now.Now()
	defer resp.Body.Close()
	var h health
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody))
	switch {
	case err != nil && isTimeout(err):
		return k.add(Result{Name: CheckHealth,
			Detail: i18n.M("%s accepted the connection but sent no answer within %s", host, span(k.c.timeout())),
			Remedy: i18n.M("the server is overloaded, or something between (a proxy or firewall) holds the request: try again later; if it lasts, tell your vendor")})
	case resp.StatusCode == http.StatusProxyAuthRequired:
		return k.add(Result{Name: CheckHealth,
			Detail: i18n.M("the proxy asks for a user name and password"),
			Remedy: i18n.M("put them in %s as http://user:password@proxy:port, or ask your network administrator", k.proxy.Setting)})
	case resp.StatusCode >= 500:
		return k.add(Result{Name: CheckHealth,
			Detail: i18n.M("%s answered HTTP %d: the update server has a problem", host, resp.StatusCode),
			Remedy: i18n.M("try again later; if it lasts, tell your vendor")})
	case resp.StatusCode != http.StatusOK || err != nil || json.Unmarshal(body, &h) != nil || h.Status != "ok":
		return k.add(Result{Name: CheckHealth,
			Detail: i18n.M("%s answered HTTP %d, which is not the answer of an aktual update server", host, resp.StatusCode),
			Remedy: i18n.M("check the address: it must be the update server's address your vendor gave; if a login or filter page of your network answers instead, ask your network administrator")})
	}
	k.rep.ServerVersion = h.Version
	r := Result{Name: CheckHealth, OK: true, Detail: i18n.M("the update server answers (version %s)", h.Version)}
	if h.Version == "" {
		r.Detail = i18n.M("the update server answers (it does not say its version)")
	}
	k.add(r)
	return k.checkClock(resp.Header.Get("Date"), received)
}

// checkClock compares this computer's clock with the server's Date.
// Signed answers carry their time: with the clock off, they look expired
// or not yet valid, and the updater refuses them.
func (k *checker) checkClock(date string, now time.Time) bool {
	server, err := http.ParseTime(date)
	if err != nil {
		return k.add(Result{Name: CheckClock, OK: true, Warning: true,
			Detail: i18n.M("the server did not say its time, so the clocks could not be compared")})
	}
	skew := now.Sub(server)
	if skew.Abs() <= MaxClockSkew {
		return k.add(Result{Name: CheckClock, OK: true, Detail: i18n.M("this computer's clock agrees with the server's (difference: %s)", span(skew.Round(time.Second)))})
	}
	r := Result{Name: CheckClock,
		Detail: i18n.M("this computer's clock is %s ahead of the server's", span(skew)),
		Remedy: i18n.M("set this computer's date and time correctly (best: automatically, from the Internet); with the clock this far off, the server's signed answers look expired or not yet valid, and updates are refused")}
	if skew < 0 {
		r.Detail = i18n.M("this computer's clock is %s behind the server's", span(skew))
	}
	return k.add(r)
}
