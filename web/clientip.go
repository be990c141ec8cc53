package web

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the address of the client that sent r (SEC-38). It is the
// socket's peer address, unless the peer is one of the trusted proxies: then
// X-Forwarded-For is walked from the right (the entry the nearest proxy
// appended) past every trusted proxy, and the first address that is not one
// is the client. Entries to the left of it were written by the client itself
// and are never believed. An unparsable entry stops the walk at the last
// trusted hop, so garbage cannot choose the answer either. With no trusted
// proxies configured, X-Forwarded-For is ignored entirely.
//
// The result is invalid (the zero Addr) only when RemoteAddr itself is not
// an address, which net/http never produces for real connections.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || !isTrustedProxy(peer, trusted) {
		return peer
	}
	hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHostAddr(hops[i])
		if !a.IsValid() {
			break
		}
		client = a
		if !isTrustedProxy(a, trusted) {
			break
		}
	}
	return client
}

// forwardedFor splits every X-Forwarded-For header (a proxy may add its own
// header line instead of appending) into its comma-separated entries, in
// order.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

func isTrustedProxy(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHostAddr reads "1.2.3.4", "1.2.3.4:80", "::1", "[::1]" or
// "[::1]:80". IPv4-mapped IPv6 addresses are unmapped and zones dropped, so
// one client has one spelling (and one rate-limit counter).
func parseHostAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			a, err = netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
			if err != nil {
				return netip.Addr{}
			}
		} else {
			a = ap.Addr()
		}
	}
	return a.Unmap().WithZone("")
}

// ipRateKey is the rate-limit key of a client address. An IPv6 client is
// counted per /64, the block one subscriber usually gets: otherwise anyone
// with a /64 would have 2^64 fresh budgets.
func ipRateKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "ip:unknown"
	case a.Is6():
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	default:
		return "ip:" + a.String()
	}
}
