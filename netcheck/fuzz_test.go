package netcheck

import (
	"strings"
	"testing"
)

// NO_PROXY is typed by people: any list is read without a panic, "*"
// exempts every host, and adding entries never un-exempts a host.
func FuzzNoProxyMatches(f *testing.F) {
	for _, s := range [][3]string{
		{"example.com", "updates.example.com", "443"},
		{".example.com", "example.com", "443"},
		{"*.example.com:8443", "a.example.com", "8443"},
		{"10.0.0.0/8, 127.0.0.1", "10.1.2.3", "80"},
		{"[::1]:443,::1", "::1", "443"},
		{" , ,.", "x", ""},
		{"*", "anything", "1"},
		{"*:80", "updates.example.com", "80"},
		{"*:", "x", "443"},
		{"*.", "x.", ""},
	} {
		f.Add(s[0], s[1], s[2], "other.example")
	}
	f.Fuzz(func(t *testing.T, list, host, port, extra string) {
		host = strings.ToLower(host)
		m := noProxyMatches(list, host, port)
		if noProxyMatches("*,"+list, host, port) != true {
			t.Fatalf("\"*,%s\" does not exempt %q", list, host)
		}
		if m && !noProxyMatches(list+","+extra, host, port) {
			t.Fatalf("%q exempts %q:%s but %q does not", list, host, port, list+","+extra)
		}
	})
}

// A proxy setting read without error names a host to connect to.
func FuzzParseProxy(f *testing.F) {
	for _, s := range []string{"http://proxy:8080", "proxy:3128", "https://u:p@proxy", "socks5://[::1]:1080", "://", "%zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseProxy(s)
		if err == nil && (u == nil || u.Host == "") {
			t.Fatalf("parseProxy(%q) = %v without a host, and no error", s, u)
		}
	})
}
