package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// DefaultTrustedProxies are the addresses whose X-Forwarded-For is
// believed: loopback and private networks, where the TLS-terminating
// proxy or load balancer in front of Signal normally is. A client on the
// internet cannot send from them, so it cannot choose its IP with the
// header.
const DefaultTrustedProxies = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"

// ParsePrefixes reads a comma-separated list of IPs and CIDR prefixes;
// "none" or "" is the empty list.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return []netip.Prefix{}, nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", part)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address of whoever sent r: the peer, unless the peer is a
// trusted proxy; then the rightmost X-Forwarded-For address that is not a
// trusted proxy (proxies append, so entries left of it may be forged by the
// client). An entry that does not parse ends the walk at the last address
// believed.
func clientIP(r *http.Request, proxies []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	ip = ip.Unmap()
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0 && trusted(ip, proxies); i-- {
		entries := strings.Split(values[i], ",")
		for j := len(entries) - 1; j >= 0 && trusted(ip, proxies); j-- {
			next, err := netip.ParseAddr(strings.TrimSpace(entries[j]))
			if err != nil {
				return ip, true
			}
			ip = next.Unmap()
		}
	}
	return ip, true
}
