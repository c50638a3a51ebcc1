package staff

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies trusted to say, in X-Forwarded-For,
// whom they forward for. Nothing else is trusted to say so: any client can
// send the header.
type Proxies []netip.Prefix

// ParseProxies reads trusted proxies as CIDR prefixes ("10.0.0.0/8",
// "2001:db8::/32") or bare addresses ("192.0.2.7", one host). Blank
// entries are skipped. IPv4-mapped IPv6 forms are read as the IPv4 they
// map. It refuses a prefix with host bits set (a likely typo: the error
// says which prefix was probably meant) and a /0, which would let every
// client choose its own address.
func ParseProxies(cidrs []string) (Proxies, error) {
	var ps Proxies
	for _, s := range cidrs {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := parseProxy(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func parseProxy(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("not an address or CIDR prefix (like 10.0.0.0/8 or 2001:db8::/32): %w", err)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("not an address or CIDR prefix (like 10.0.0.0/8 or 2001:db8::/32): %w", err)
		}
		if a.Zone() != "" {
			return p, fmt.Errorf("an address with a zone (%%%s) cannot be matched; leave the zone out", a.Zone())
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	switch {
	case p.Bits() == 0:
		return p, fmt.Errorf("a /0 trusts every address, which would let any client choose its own; name the proxies' addresses")
	case p.Masked() != p:
		return p, fmt.Errorf("the prefix has bits set past /%d; did you mean %s?", p.Bits(), p.Masked())
	}
	return p, nil
}

func (ps Proxies) trusted(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Bounds on reading X-Forwarded-For: the hops walked from the right (a
// request seldom passes more than two or three proxies) and the length of
// one entry ("[v6]:port" is at most 53 bytes). Past them the walk stops,
// so a huge header costs no more than a small one.
const (
	maxForwardedHops  = 16
	maxForwardedEntry = 64
)

// ClientAddr is the address of the client that sent r. It is the
// connection's peer (r.RemoteAddr), unless the peer is a trusted proxy:
// then X-Forwarded-For is walked from the right (across several such
// headers, the last first), skipping trusted proxies, and the first
// address not trusted is the client. A malformed entry, or more hops than
// maxForwardedHops, stops the walk at the last trusted hop (which may be
// the peer itself): what lies left of it was written by someone not
// trusted. IPv4-mapped IPv6 addresses are returned as IPv4, and zones and
// ports are dropped. The zero Addr means RemoteAddr could not be read.
func (ps Proxies) ClientAddr(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !ps.trusted(peer) {
		return peer
	}
	last, budget := peer, maxForwardedHops
	vals := r.Header.Values("X-Forwarded-For")
	for i := len(vals) - 1; i >= 0 && budget > 0; i-- {
		for v := vals[i]; v != "" && budget > 0; budget-- {
			var entry string
			entry, v = lastEntry(v)
			a, ok := parseForwarded(entry)
			if !ok {
				return last
			}
			if !ps.trusted(a) {
				return a
			}
			last = a
		}
	}
	return last
}

// lastEntry splits the last comma-separated entry off v, looking at no
// more than an entry's length of it: a longer entry is returned as it is
// (and parseForwarded refuses it by its length alone).
func lastEntry(v string) (entry, rest string) {
	tail := v[max(0, len(v)-maxForwardedEntry-1):]
	j := strings.LastIndexByte(tail, ',')
	if j < 0 {
		return v, ""
	}
	j += len(v) - len(tail)
	return v[j+1:], v[:j]
}

// parseForwarded reads one X-Forwarded-For entry: an IPv4 or IPv6
// address, optionally with a port ("192.0.2.1:443", "[2001:db8::1]:443")
// or in brackets ("[2001:db8::1]"), with spaces or tabs around it. Zones
// are refused: no proxy forwards one.
func parseForwarded(s string) (netip.Addr, bool) {
	if len(s) > maxForwardedEntry+8 {
		return netip.Addr{}, false
	}
	s = strings.Trim(s, " \t")
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		a, err = ap.Addr(), err2
		if err != nil && len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			a, err = netip.ParseAddr(s[1 : len(s)-1])
		}
	}
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseAddr reads r.RemoteAddr: "host:port" as net/http sets it, or a bare
// address (as some tests and listeners give). The zone is dropped (a
// zoned address matches no prefix) and a mapped IPv4 is unmapped.
func parseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap()
}
