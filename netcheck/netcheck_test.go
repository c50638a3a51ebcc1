package netcheck

import (
	"cmp"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/i18n"
)

func TestRun(t *testing.T) {
	testCA := newCA(t, "aktual test CA")
	otherCA := newCA(t, "Unknown CA")
	now := time.Now()
	valid := func(names ...string) tls.Certificate {
		return testCA.issue(t, names, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	}
	tests := []struct {
		name string
		// setup starts the servers and returns the URL to check.
		setup     func(t *testing.T) string
		timeout   time.Duration // default 5s
		checks    string        // the checks run, in order
		failed    string        // the check that fails, "" for none
		warning   string        // a check that passes with a warning
		says      string        // in the failed (else warning) check's detail
		reachable bool
	}{
		{name: "healthy over http", setup: func(t *testing.T) string { return serve(t, healthy(0)) },
			checks: "url proxy dns tcp health clock", reachable: true},
		{name: "healthy over https", setup: func(t *testing.T) string { return serveTLS(t, healthy(0), valid("127.0.0.1")) },
			checks: "url proxy dns tcp tls health clock", reachable: true},
		{name: "not a URL", setup: func(*testing.T) string { return "updates.example.com" },
			checks: "url", failed: CheckURL, says: "is not an http(s) address"},
		{name: "refused", setup: func(t *testing.T) string { return "http://" + closedPort(t) },
			checks: "url proxy dns tcp", failed: CheckTCP, says: "refused the connection"},
		{name: "refused over https", setup: func(t *testing.T) string { return "https://" + closedPort(t) },
			checks: "url proxy dns tcp", failed: CheckTCP, says: "refused the connection"},
		{name: "stalls after connecting", setup: func(t *testing.T) string { return "http://" + stalled(t) },
			timeout: 300 * time.Millisecond,
			checks:  "url proxy dns tcp health", failed: CheckHealth, says: "sent no answer within 1 second"},
		{name: "stalls in the TLS handshake", setup: func(t *testing.T) string { return "https://" + stalled(t) },
			timeout: 300 * time.Millisecond,
			checks:  "url proxy dns tcp tls", failed: CheckTLS, says: "was not set up within"},
		{name: "certificate for another name", setup: func(t *testing.T) string {
			return serveTLS(t, healthy(0), valid("other.example", "www.other.example"))
		}, checks: "url proxy dns tcp tls", failed: CheckTLS, says: "is for other.example, www.other.example, not for 127.0.0.1"},
		{name: "expired certificate", setup: func(t *testing.T) string {
			return serveTLS(t, healthy(0), testCA.issue(t, []string{"127.0.0.1"}, now.Add(-60*24*time.Hour), now.Add(-24*time.Hour)))
		}, checks: "url proxy dns tcp tls", failed: CheckTLS, says: "expired on " + now.Add(-24*time.Hour).Format(dateFormat)},
		{name: "certificate not yet valid", setup: func(t *testing.T) string {
			return serveTLS(t, healthy(0), testCA.issue(t, []string{"127.0.0.1"}, now.Add(24*time.Hour), now.Add(60*24*time.Hour)))
		}, checks: "url proxy dns tcp tls", failed: CheckTLS, says: "is valid only from"},
		{name: "certificate from an unknown authority", setup: func(t *testing.T) string {
			return serveTLS(t, healthy(0), otherCA.issue(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour)))
		}, checks: "url proxy dns tcp tls", failed: CheckTLS, says: "issued by Unknown CA, which this computer does not trust"},
		{name: "self-signed certificate", setup: func(t *testing.T) string {
			return serveTLS(t, healthy(0), (*ca)(nil).issue(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour)))
		}, checks: "url proxy dns tcp tls", failed: CheckTLS, says: "is self-signed"},
		{name: "certificate expires soon", setup: func(t *testing.T) string {
			return serveTLS(t, healthy(0), testCA.issue(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(10*24*time.Hour+time.Hour)))
		}, checks: "url proxy dns tcp tls health clock", warning: CheckTLS, says: "(10 days left)", reachable: true},
		{name: "plain HTTP on an https URL", setup: func(t *testing.T) string {
			return strings.Replace(serve(t, healthy(0)), "http:", "https:", 1)
		}, checks: "url proxy dns tcp tls", failed: CheckTLS, says: "answers plain HTTP, not HTTPS"},
		{name: "server clock 2 hours behind", setup: func(t *testing.T) string { return serve(t, healthy(-2*time.Hour)) },
			checks: "url proxy dns tcp health clock", failed: CheckClock, says: "clock is 2 hours ahead of the server's", reachable: true},
		{name: "server clock 2 hours ahead", setup: func(t *testing.T) string { return serve(t, healthy(2*time.Hour)) },
			checks: "url proxy dns tcp health clock", failed: CheckClock, says: "behind the server's", reachable: true},
		{name: "server clock 3 minutes off", setup: func(t *testing.T) string { return serve(t, healthy(3*time.Minute)) },
			checks: "url proxy dns tcp health clock", reachable: true},
		{name: "no Date header", setup: func(t *testing.T) string {
			return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Date"] = nil
				w.Write([]byte(`{"status":"ok","version":"9.9.9"}`))
			}))
		}, checks: "url proxy dns tcp health clock", warning: CheckClock, says: "did not say its time", reachable: true},
		{name: "not an aktual server", setup: func(t *testing.T) string { return serve(t, http.NotFoundHandler()) },
			checks: "url proxy dns tcp health", failed: CheckHealth, says: "answered HTTP 404, which is not the answer of an aktual update server"},
		{name: "a web page, not an aktual server", setup: func(t *testing.T) string {
			return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>Login</html>")) }))
		}, checks: "url proxy dns tcp health", failed: CheckHealth, says: "answered HTTP 200, which is not the answer"},
		{name: "server error", setup: func(t *testing.T) string {
			return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }))
		}, checks: "url proxy dns tcp health", failed: CheckHealth, says: "answered HTTP 503: the update server has a problem"},
		{name: "name does not resolve", setup: func(*testing.T) string { return "https://updates.invalid" },
			checks: "url proxy dns", failed: CheckDNS, says: "updates.invalid"},
		{name: "proxy refuses", setup: func(t *testing.T) string {
			t.Setenv("HTTPS_PROXY", "http://"+closedPort(t))
			return "https://updates.example.com"
		}, checks: "url proxy", failed: CheckProxy, says: "refuses connections"},
		{name: "proxy without scheme refuses", setup: func(t *testing.T) string {
			t.Setenv("https_proxy", closedPort(t))
			return "https://updates.example.com"
		}, checks: "url proxy", failed: CheckProxy, says: "refuses connections"},
		{name: "NO_PROXY exempts the server", setup: func(t *testing.T) string {
			t.Setenv("HTTPS_PROXY", "http://"+closedPort(t))
			t.Setenv("NO_PROXY", "example.com, .invalid")
			return "https://updates.invalid"
		}, checks: "url proxy dns", failed: CheckDNS, says: "updates.invalid"},
		{name: "no proxy for this computer", setup: func(t *testing.T) string {
			t.Setenv("HTTPS_PROXY", "http://"+closedPort(t))
			return serveTLS(t, healthy(0), valid("127.0.0.1"))
		}, checks: "url proxy dns tcp tls health clock", reachable: true},
		{name: "through a proxy", setup: func(t *testing.T) string {
			target := strings.TrimPrefix(serveTLS(t, healthy(0), valid("updates.example")), "https://")
			proxy, n := connectProxy(t, http.StatusOK, map[string]string{"updates.example:443": target})
			t.Setenv("HTTPS_PROXY", proxy)
			t.Cleanup(func() {
				if n.Load() != 2 {
					t.Errorf("the proxy had %d CONNECTs, want 2 (tcp and health)", n.Load())
				}
			})
			return "https://updates.example"
		}, checks: "url proxy dns tcp tls health clock", reachable: true},
		{name: "proxy wants a password", setup: func(t *testing.T) string {
			proxy, _ := connectProxy(t, http.StatusProxyAuthRequired, nil)
			t.Setenv("HTTPS_PROXY", proxy)
			return "https://updates.example"
		}, checks: "url proxy dns tcp", failed: CheckTCP, says: "asks for a user name and password"},
		{name: "proxy forbids the server", setup: func(t *testing.T) string {
			proxy, _ := connectProxy(t, http.StatusForbidden, nil)
			t.Setenv("HTTPS_PROXY", proxy)
			return "https://updates.example"
		}, checks: "url proxy dns tcp", failed: CheckTCP, says: "does not let this computer connect to updates.example:443 (it answered HTTP 403)"},
		{name: "proxy cannot reach the server", setup: func(t *testing.T) string {
			proxy, _ := connectProxy(t, http.StatusOK, nil) // no route: 502
			t.Setenv("HTTPS_PROXY", proxy)
			return "https://updates.example"
		}, checks: "url proxy dns tcp", failed: CheckTCP, says: "cannot reach updates.example:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noProxy(t)
			c := &Client{
				Timeout:   5 * time.Second,
				TLSConfig: &tls.Config{RootCAs: testCA.pool},
				Resolver:  &net.Resolver{PreferGo: true},
			}
			if tt.timeout > 0 {
				c.Timeout = tt.timeout
			}
			serverURL := tt.setup(t)
			start := time.Now()
			rep := c.Run(t.Context(), serverURL)
			if d := time.Since(start); d > 3*c.Timeout {
				t.Errorf("took %v with a timeout of %v", d, c.Timeout)
			}
			var names []string
			for _, r := range rep.Checks {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, " "); got != tt.checks {
				t.Errorf("checks run: %q, want %q\n%s", got, tt.checks, dump(rep))
			}
			if rep.Reachable() != tt.reachable {
				t.Errorf("Reachable = %v, want %v", rep.Reachable(), tt.reachable)
			}
			if tt.reachable && rep.ServerVersion != "9.9.9" {
				t.Errorf("ServerVersion = %q", rep.ServerVersion)
			}
			bg := i18n.NewPrinter(i18n.Bulgarian)
			for _, r := range rep.Checks {
				for _, m := range []i18n.Message{r.Detail, r.Remedy} {
					if s := bg.Sprint(m); strings.Contains(s, "%!") {
						t.Errorf("%s: in Bulgarian, %q", r.Name, s)
					}
				}
				if r.Detail.IsZero() {
					t.Errorf("%s: no detail", r.Name)
				}
				if !r.OK && r.Remedy.IsZero() {
					t.Errorf("%s failed without a remedy: %s", r.Name, r.Detail)
				}
				if r.Warning != (r.Name == tt.warning) {
					t.Errorf("%s: Warning = %v\n%s", r.Name, r.Warning, dump(rep))
				}
			}
			f := rep.FirstFailure()
			switch {
			case tt.failed == "" && f != nil:
				t.Fatalf("%s failed\n%s", f.Name, dump(rep))
			case tt.failed == "":
				if !rep.OK() {
					t.Error("not OK without a failure")
				}
			case f == nil || f.Name != tt.failed:
				t.Fatalf("want %s to fail\n%s", tt.failed, dump(rep))
			case rep.OK():
				t.Error("OK despite a failure")
			}
			if name := cmp.Or(tt.failed, tt.warning); name != "" {
				if d := rep.Check(name).Detail.String(); !strings.Contains(d, tt.says) {
					t.Errorf("%s says %q, want %q", name, d, tt.says)
				}
			}
		})
	}
}

// dump is the report in English, for failure messages.
func dump(r *Report) string {
	var b strings.Builder
	for _, c := range r.Checks {
		mark := "ok  "
		switch {
		case !c.OK:
			mark = "FAIL"
		case c.Warning:
			mark = "warn"
		}
		b.WriteString("  " + mark + " " + c.Name + ": " + c.Detail.String() + "\n")
		if !c.Remedy.IsZero() {
			b.WriteString("         → " + c.Remedy.String() + "\n")
		}
	}
	return b.String()
}

func TestQuickStopsBeforeHTTP(t *testing.T) {
	noProxy(t)
	testCA := newCA(t, "aktual test CA")
	var asked atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { asked.Add(1) })
	srv := serveTLS(t, h, testCA.issue(t, []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	c := &Client{TLSConfig: &tls.Config{RootCAs: testCA.pool}}

	rep := c.Quick(t.Context(), srv)
	if !rep.OK() || len(rep.Checks) != 5 || rep.Checks[4].Name != CheckTLS || rep.Reachable() {
		t.Fatalf("Quick:\n%s", dump(rep))
	}
	if asked.Load() != 0 {
		t.Errorf("Quick sent %d HTTP requests", asked.Load())
	}
	rep = c.Quick(t.Context(), "https://"+closedPort(t))
	if f := rep.FirstFailure(); f == nil || f.Name != CheckTCP {
		t.Fatalf("FirstFailure of a refused port:\n%s", dump(rep))
	}
}

func TestInjectedProxy(t *testing.T) {
	noProxy(t)
	proxy := "http://" + closedPort(t)
	c := &Client{Timeout: 5 * time.Second, Proxy: func(u *url.URL) (*url.URL, error) { return url.Parse(proxy) }}
	rep := c.Run(t.Context(), "http://127.0.0.1:1") // loopback, yet the injected choice rules
	if f := rep.FirstFailure(); f == nil || f.Name != CheckProxy || !strings.Contains(f.Remedy.String(), "the proxy setting") {
		t.Fatalf("report:\n%s", dump(rep))
	}
}

func TestEnvProxy(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name   string
		getenv func(string) string
		url    string
		proxy  string // "" for none
		exempt string // the NO_PROXY variable that exempts
		local  bool
		bad    bool
	}{
		{"nothing set", env(), "https://updates.example.com", "", "", false, false},
		{"https", env("HTTPS_PROXY", "http://proxy:3128"), "https://updates.example.com", "http://proxy:3128", "", false, false},
		{"https ignores HTTP_PROXY", env("HTTP_PROXY", "http://proxy:3128"), "https://updates.example.com", "", "", false, false},
		{"http uses HTTP_PROXY", env("HTTP_PROXY", "http://proxy:3128"), "http://updates.example.com", "http://proxy:3128", "", false, false},
		{"upper case first", env("HTTPS_PROXY", "http://upper:1", "https_proxy", "http://lower:1"), "https://u.example", "http://upper:1", "", false, false},
		{"lower case", env("https_proxy", "http://lower:1"), "https://u.example", "http://lower:1", "", false, false},
		{"no scheme means http", env("HTTPS_PROXY", "proxy.corp:8080"), "https://u.example", "http://proxy.corp:8080", "", false, false},
		{"with a password", env("HTTPS_PROXY", "http://me:secret@proxy:1"), "https://u.example", "http://me:secret@proxy:1", "", false, false},
		{"localhost", env("HTTPS_PROXY", "http://proxy:1"), "https://localhost:8443", "", "", true, false},
		{"loopback", env("HTTPS_PROXY", "http://proxy:1"), "https://127.0.0.2", "", "", true, false},
		{"loopback v6", env("HTTPS_PROXY", "http://proxy:1"), "https://[::1]:8443", "", "", true, false},
		{"NO_PROXY name", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", "example.com"), "https://example.com", "", "NO_PROXY", false, false},
		{"NO_PROXY name covers subdomains", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", "example.com"), "https://updates.example.com", "", "NO_PROXY", false, false},
		{"NO_PROXY is not a substring match", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", "example.com"), "https://badexample.com", "http://proxy:1", "", false, false},
		{"NO_PROXY dot: subdomains only", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", ".example.com"), "https://example.com", "http://proxy:1", "", false, false},
		{"NO_PROXY star-dot", env("HTTPS_PROXY", "http://proxy:1", "no_proxy", "*.example.com"), "https://a.example.com", "", "no_proxy", false, false},
		{"NO_PROXY star", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", "*"), "https://u.example", "", "NO_PROXY", false, false},
		{"NO_PROXY port", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", "u.example:443"), "https://u.example", "", "NO_PROXY", false, false},
		{"NO_PROXY other port", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", "u.example:8443"), "https://u.example", "http://proxy:1", "", false, false},
		{"NO_PROXY IP", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", "10.1.2.3"), "https://10.1.2.3", "", "NO_PROXY", false, false},
		{"NO_PROXY CIDR", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", "10.0.0.0/8"), "https://10.1.2.3:8443", "", "NO_PROXY", false, false},
		{"NO_PROXY list, case", env("HTTPS_PROXY", "http://proxy:1", "NO_PROXY", " other.example , UPDATES.Example.COM"), "https://updates.example.com", "", "NO_PROXY", false, false},
		{"not an address", env("HTTPS_PROXY", "::bad"), "https://u.example", "", "", false, true},
		{"not an address either", env("HTTPS_PROXY", "%zz"), "https://u.example", "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse(tt.url)
			pc, err := envProxy(tt.getenv, u)
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v", err)
			}
			got := ""
			if pc.URL != nil {
				got = pc.URL.String()
			}
			if got != tt.proxy || pc.exemptBy != tt.exempt || pc.local != tt.local {
				t.Errorf("proxy %q exempt %q local %v, want %q %q %v", got, pc.exemptBy, pc.local, tt.proxy, tt.exempt, tt.local)
			}
		})
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond:       "1 second",
		10 * time.Second:             "10 seconds",
		time.Minute:                  "1 minute",
		59 * time.Minute:             "59 minutes",
		-2 * time.Hour:               "2 hours",
		time.Hour + time.Minute:      "1 hour and 1 minute",
		47*time.Hour + 5*time.Minute: "47 hours and 5 minutes",
		10*24*time.Hour + time.Hour:  "10 days",
		24 * 24 * time.Hour:          "24 days",
	} {
		if got := span(d).String(); got != want {
			t.Errorf("span(%v) = %q, want %q", d, got, want)
		}
	}
	// "%d seconds" is shared with the server, whose catalog entry gives
	// its Bulgarian, so only the other units are checked here.
	bg := i18n.NewPrinter(i18n.Bulgarian)
	for d, want := range map[time.Duration]string{
		5 * time.Minute:            "5 минути",
		time.Hour + 21*time.Minute: "1 час и 21 минути",
		3 * 24 * time.Hour:         "3 дни",
	} {
		if got := bg.Sprint(span(d)); got != want {
			t.Errorf("span(%v) in Bulgarian = %q, want %q", d, got, want)
		}
	}
}
