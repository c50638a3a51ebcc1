package aktual_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestStaffAcrossReplicas runs real aktuald replicas with the admin
// listener on, behind a proxy they trust (X-Forwarded-For from loopback),
// on each database replicas share: a console session opened on one works
// on the other and ends on both the moment the account is disabled;
// failed sign-ins are limited across them; and installers update as
// before with the console on.
func TestStaffAcrossReplicas(t *testing.T) {
	for _, db := range []struct{ name string }{{"sqlite"}, {"postgres"}} {
		t.Run(db.name, func(t *testing.T) {
			var url string
			if db.name == "postgres" {
				url = postgresDB(t)
			}
			admins := []string{freeAddr(t), freeAddr(t)}
			w := newReplicaWorldServe(t, url, 2, 2, func(i int) []string {
				return []string{"--admin-addr", admins[i], "--trusted-proxy", "127.0.0.1"}
			})
			var acc struct{ Password string }
			if err := json.Unmarshal([]byte(w.aktuald("--json", "staff", "add", "--login", "maria", "--role", "office")), &acc); err != nil {
				t.Fatal(err)
			}
			staffSessionAcrossReplicas(t, w, admins, acc.Password)
			signInLimitAcrossReplicas(t, w, admins, acc.Password)
			if code, out := w.update("c1"); code != 0 {
				t.Fatalf("an installer against replicas with the console on: exit %d\n%s", code, out)
			}
			if p, r, h, c := w.standing(); p != 2 || r != 1 || h != 0 || c != 1 {
				t.Errorf("after one update: %d/%d/%d/%d", p, r, h, c)
			}
			w.requireAudit()
		})
	}
}

// consoleClient is a browser of the console: it keeps the session cookie
// by hand (Go's jar sends Secure cookies over HTTPS only) and comes
// through the trusted proxy from address from.
type consoleClient struct {
	t       *testing.T
	session string
	from    string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *consoleClient) do(method, base, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, "http://"+base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", c.from)
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-aktual-session", Value: c.session})
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-aktual-session" {
			c.session = ck.Value
		}
	}
	return resp, string(b)
}

// signIn posts the sign-in form on base; the form's CSRF token is the
// pre-session cookie's value, read off the form.
func (c *consoleClient) signIn(base, login, password string) *http.Response {
	c.t.Helper()
	resp, page := c.do("GET", base, "/login", nil)
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no sign-in form: %d %s", resp.StatusCode, page)
	}
	var pre string
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-aktual-pre" {
			pre = ck.Value
		}
	}
	form := url.Values{"csrf": {m[1]}, "login": {login}, "password": {password}}
	req, _ := http.NewRequest("POST", "http://"+base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", c.from)
	req.AddCookie(&http.Cookie{Name: "__Host-aktual-pre", Value: pre})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-aktual-session" {
			c.session = ck.Value
		}
	}
	return resp
}

func staffSessionAcrossReplicas(t *testing.T, w *replicaWorld, admins []string, password string) {
	c := &consoleClient{t: t, from: "198.51.100.20"}
	if resp := c.signIn(admins[0], "maria", password); resp.StatusCode != http.StatusSeeOther || c.session == "" {
		t.Fatalf("signing in on replica 0: %s", resp.Status)
	}
	for i, a := range admins {
		if resp, page := c.do("GET", a, "/?q=Acme", nil); resp.StatusCode != 200 || !strings.Contains(page, "Acme") {
			t.Fatalf("replica %d with the session: %s", i, resp.Status)
		}
	}
	w.aktuald("staff", "disable", "--login", "maria", "--reason", "a test")
	for i, a := range admins {
		if resp, _ := c.do("GET", a, "/", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("replica %d after disabling: %s %s", i, resp.Status, resp.Header.Get("Location"))
		}
	}
	w.aktuald("staff", "enable", "--login", "maria")
	// The audit log, read through the admin API of the other replica,
	// has the sign-in from the address the proxy forwarded.
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(w.aktuald("--json", "staff", "token", "--login", "maria", "--name", "audit")), &tok); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+admins[1]+"/admin/v1/audit?actor=staff:maria", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var log struct {
		Events []struct{ Action, Address string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil || resp.StatusCode != 200 {
		t.Fatalf("audit through the API: %s %v", resp.Status, err)
	}
	found := false
	for _, e := range log.Events {
		found = found || (e.Action == "login" && e.Address == "198.51.100.20")
	}
	if !found {
		t.Errorf("no sign-in from 198.51.100.20 in the audit log: %+v", log.Events)
	}
}

func signInLimitAcrossReplicas(t *testing.T, w *replicaWorld, admins []string, password string) {
	c := &consoleClient{t: t, from: "203.0.113.5"}
	for i := range 5 {
		if resp := c.signIn(admins[i%2], "maria", "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %s", i+1, resp.Status)
		}
	}
	for i, a := range admins {
		if resp := c.signIn(a, "maria", password); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("the right password on replica %d after 5 failures across both: %s", i, resp.Status)
		}
	}
	// Another address is refused too: it is maria's account that is
	// held, wherever the guesses came from.
	other := &consoleClient{t: t, from: "192.0.2.99"}
	if resp := other.signIn(admins[1], "maria", password); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("maria from another address: %s", resp.Status)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr())
}
