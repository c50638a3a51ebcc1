package staff

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestParseProxies(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string // the prefixes, space-separated; "error" for an error
	}{
		{nil, ""},
		{[]string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1"}, "10.0.0.0/8 192.0.2.7/32 2001:db8::/32 ::1/128"},
		{[]string{" 10.0.0.0/8 ", "", "  "}, "10.0.0.0/8"},
		{[]string{"::ffff:192.0.2.7"}, "192.0.2.7/32"},
		{[]string{"::ffff:10.0.0.0/104"}, "10.0.0.0/8"},
		{[]string{"10.0.0.1/8"}, "error"}, // host bits: 10.0.0.0/8 was meant
		{[]string{"0.0.0.0/0"}, "error"},
		{[]string{"::/0"}, "error"},
		{[]string{"10.0.0.0/33"}, "error"},
		{[]string{"proxy.example.com"}, "error"},
		{[]string{"10.0.0.0/8", "10.0.0"}, "error"},
		{[]string{"fe80::1%eth0"}, "error"},
		{[]string{"192.0.2.7:80"}, "error"},
	} {
		ps, err := ParseProxies(tc.in)
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if tc.want == "error" {
			if err == nil {
				t.Errorf("ParseProxies(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("ParseProxies(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	_, err := ParseProxies([]string{"10.0.0.1/8"})
	if err == nil || !strings.Contains(err.Error(), "10.0.0.0/8") || !strings.Contains(err.Error(), `"10.0.0.1/8"`) {
		t.Errorf("the error for a prefix with host bits, %v, names neither it nor what was meant", err)
	}
}

var testProxies = mustProxies("10.0.0.0/8", "192.0.2.7", "2001:db8:1::/48")

func mustProxies(s ...string) Proxies {
	ps, err := ParseProxies(s)
	if err != nil {
		panic(err)
	}
	return ps
}

func request(remote string, xff ...string) *http.Request {
	r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func TestClientAddr(t *testing.T) {
	manyHops := strings.Repeat("10.0.0.9, ", 40) + "10.0.0.1"
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string // "" for the zero Addr
	}{
		{"untrusted peer", "203.0.113.9:4000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted peer, its header ignored", "203.0.113.9:4000", []string{"10.0.0.5"}, "203.0.113.9"},
		{"trusted peer, no header", "10.0.0.2:4000", nil, "10.0.0.2"},
		{"trusted peer", "10.0.0.2:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a bare-address proxy", "192.0.2.7:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a spoofed entry on the left", "10.0.0.2:4000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops skipped", "10.0.0.2:4000", []string{"1.1.1.1, 198.51.100.1, 10.0.0.3, 10.1.2.3"}, "198.51.100.1"},
		{"only trusted hops", "10.0.0.2:4000", []string{"10.0.0.4, 10.0.0.3"}, "10.0.0.4"},
		{"malformed right after the peer", "10.0.0.2:4000", []string{"198.51.100.1, garbage"}, "10.0.0.2"},
		{"malformed past a trusted hop", "10.0.0.2:4000", []string{"198.51.100.1, garbage, 10.0.0.3"}, "10.0.0.3"},
		{"unknown", "10.0.0.2:4000", []string{"unknown"}, "10.0.0.2"},
		{"an empty entry", "10.0.0.2:4000", []string{"198.51.100.1,,10.0.0.3"}, "10.0.0.3"},
		{"a trailing comma", "10.0.0.2:4000", []string{"198.51.100.1,"}, "10.0.0.2"},
		{"an empty header", "10.0.0.2:4000", []string{""}, "10.0.0.2"},
		{"two headers", "10.0.0.2:4000", []string{"1.1.1.1", "198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"two headers, the client in the first", "10.0.0.2:4000", []string{"198.51.100.1", "10.0.0.3"}, "198.51.100.1"},
		{"an empty header between", "10.0.0.2:4000", []string{"198.51.100.1", "", "10.0.0.3"}, "198.51.100.1"},
		{"spaces and tabs", "10.0.0.2:4000", []string{" 198.51.100.1 ,\t10.0.0.3\t"}, "198.51.100.1"},
		{"a port", "10.0.0.2:4000", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6", "10.0.0.2:4000", []string{"2001:db8:ffff::1"}, "2001:db8:ffff::1"},
		{"IPv6 in brackets", "10.0.0.2:4000", []string{"[2001:db8:ffff::1]"}, "2001:db8:ffff::1"},
		{"IPv6 with a port", "10.0.0.2:4000", []string{"[2001:db8:ffff::1]:443"}, "2001:db8:ffff::1"},
		{"IPv6 in upper case", "10.0.0.2:4000", []string{"2001:DB8:FFFF::1"}, "2001:db8:ffff::1"},
		{"IPv4-mapped", "10.0.0.2:4000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped trusted hop", "10.0.0.2:4000", []string{"198.51.100.1, ::ffff:10.0.0.3"}, "198.51.100.1"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped untrusted peer", "[::ffff:203.0.113.9]:4000", nil, "203.0.113.9"},
		{"IPv6 peer", "[2001:db8:1::5]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"zoned peer", "[2001:db8:1::5%eth0]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"zoned entry", "10.0.0.2:4000", []string{"fe80::1%eth0"}, "10.0.0.2"},
		{"leading zeros", "10.0.0.2:4000", []string{"198.051.100.1"}, "10.0.0.2"},
		{"a bare-address peer", "10.0.0.2", []string{"198.51.100.1"}, "198.51.100.1"},
		{"an unreadable peer", "somewhere", []string{"198.51.100.1"}, ""},
		{"a unix socket peer", "@", []string{"198.51.100.1"}, ""},
		{"more hops than walked", "10.0.0.2:4000", []string{"198.51.100.1, " + manyHops}, "10.0.0.9"},
		{"a huge entry", "10.0.0.2:4000", []string{strings.Repeat("9", 1<<20)}, "10.0.0.2"},
		{"a huge entry on the left", "10.0.0.2:4000", []string{strings.Repeat("9", 1<<20) + ", 198.51.100.1"}, "198.51.100.1"},
	} {
		got := testProxies.ClientAddr(request(tc.remote, tc.xff...))
		if want := addrOrZero(tc.want); got != want {
			t.Errorf("%s: ClientAddr(%s, %.80q) = %v, want %v", tc.name, tc.remote, tc.xff, got, want)
		}
	}
	if got := Proxies(nil).ClientAddr(request("10.0.0.2:4000", "198.51.100.1")); got != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("with no trusted proxies, ClientAddr = %v, want the peer", got)
	}
}

func addrOrZero(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

// FuzzClientAddr: never a panic, and the address is the peer's, or one
// that appears in a header (and only if the peer is trusted); never
// zoned, never IPv4-mapped.
func FuzzClientAddr(f *testing.F) {
	for _, s := range [][3]string{
		{"10.0.0.2:4000", "198.51.100.1", ""},
		{"10.0.0.2:4000", "1.1.1.1, 198.51.100.1, 10.0.0.3", ""},
		{"10.0.0.2:4000", "1.1.1.1", "198.51.100.1, 10.0.0.3"},
		{"203.0.113.9:4000", "198.51.100.1", ""},
		{"[::ffff:10.0.0.2]:4000", "[2001:db8:ffff::1]:443, ::ffff:10.0.0.3", ""},
		{"[2001:db8:1::5%eth0]:4000", "fe80::1%eth0", "garbage"},
		{"10.0.0.2", ",,", " \t "},
		{"@", "198.51.100.1", ""},
		{"10.0.0.2:4000", strings.Repeat("10.0.0.9,", 30), "[::1"},
		{"10.0.0.2:4000", "[::ffff:10.0.0.1%x]:1", "[1.2.3.4]"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, remote, xff1, xff2 string) {
		got := testProxies.ClientAddr(request(remote, xff1, xff2))
		peer := parseAddr(remote)
		if got == peer {
			return
		}
		switch {
		case !peer.IsValid() || !testProxies.trusted(peer):
			t.Fatalf("ClientAddr(%q, %q, %q) = %v, not the untrusted peer %v", remote, xff1, xff2, got, peer)
		case got.Zone() != "" || got.Is4In6():
			t.Fatalf("ClientAddr(%q, %q, %q) = %v, zoned or mapped", remote, xff1, xff2, got)
		case !inHeader(got, xff1+","+xff2):
			t.Fatalf("ClientAddr(%q, %q, %q) = %v, in neither the peer nor the header", remote, xff1, xff2, got)
		}
	})
}

// inHeader: some entry of the header, trimmed, is a, or a with a port
// or in brackets, or a's IPv4-mapped IPv6 form.
func inHeader(a netip.Addr, header string) bool {
	for _, e := range strings.Split(header, ",") {
		e = strings.Trim(e, " \t")
		if ap, err := netip.ParseAddrPort(e); err == nil {
			e = ap.Addr().String()
		}
		e = strings.TrimSuffix(strings.TrimPrefix(e, "["), "]")
		if b, err := netip.ParseAddr(e); err == nil && b.Unmap() == a {
			return true
		}
	}
	return false
}
