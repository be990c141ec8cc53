package web

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzClientIP feeds arbitrary peer addresses and X-Forwarded-For values
// to clientIP (SEC-38) with trusted proxies configured, and checks:
//   - the answer is the peer or one of the forwarded entries, never
//     anything else, in one spelling (unmapped, no zone);
//   - an untrusted peer's X-Forwarded-For is ignored;
//   - every hop right of the answer is a trusted proxy;
//   - entries a client writes to the left of an untrusted answer cannot
//     change it, and splitting the header into several lines does not
//     either.
func FuzzClientIP(f *testing.F) {
	for _, s := range [][3]string{
		{"203.0.113.9:5555", "198.51.100.1", "6.6.6.6"},
		{"10.1.2.3:80", "1.1.1.1, 198.51.100.1, 10.9.9.9", "10.0.0.1"},
		{"10.1.2.3:80", "198.51.100.1, garbage", ""},
		{"[fd00::1]:80", "[2001:db8::1]:443, fd00::2", "fe80::1%eth0"},
		{"[::ffff:10.1.2.3]:80", "::ffff:198.51.100.1", "10.0.0.9"},
		{"10.1.2.3:80", "fd00::1%lo, 10.4.4.4", "[::1]"},
		{"garbage", "1.2.3.4", "5.6.7.8"},
		{"10.0.0.1:1", " , ,10.0.0.2 ,", "10.0.0.3"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	ip := func(remote string, xff ...string) netip.Addr {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return clientIP(r, trusted)
	}
	f.Fuzz(func(t *testing.T, remote, xff, left string) {
		if strings.ContainsAny(remote+xff+left, "\r\n") {
			return // not a header value a request can carry
		}
		got := ip(remote, xff)
		peer := parseHostAddr(remote)
		if !peer.IsValid() || !isTrustedProxy(peer, trusted) {
			if got != peer {
				t.Fatalf("untrusted peer %q with XFF %q: got %v, want the peer %v", remote, xff, got, peer)
			}
			return
		}
		if got.Is4In6() || got.Zone() != "" {
			t.Fatalf("%v is not in its one spelling", got)
		}
		// The hops in the order they reached us: the client-written ones
		// first, the socket's peer last.
		var hops []string
		for _, e := range strings.Split(xff, ",") {
			if e = strings.TrimSpace(e); e != "" {
				hops = append(hops, e)
			}
		}
		hops = append(hops, remote)
		at := -1 // the hop the answer came from: the rightmost one, when several match
		for i, h := range hops {
			if parseHostAddr(h) == got {
				at = i
			}
		}
		if at < 0 {
			t.Fatalf("peer %q, XFF %q: %v is none of the inputs", remote, xff, got)
		}
		for _, h := range hops[at+1:] {
			if a := parseHostAddr(h); !a.IsValid() || !isTrustedProxy(a, trusted) {
				t.Fatalf("peer %q, XFF %q: answer %v lies left of the hop %q, which is not a trusted proxy", remote, xff, got, h)
			}
		}
		joined := ip(remote, left+","+xff)
		if !isTrustedProxy(got, trusted) && joined != got {
			t.Fatalf("peer %q, XFF %q: %v, but %v once the client prepends %q", remote, xff, got, joined, left)
		}
		if lines := ip(remote, left, xff); lines != joined {
			t.Fatalf("peer %q: XFF lines %q, %q give %v, joined %v", remote, left, xff, lines, joined)
		}
	})
}
