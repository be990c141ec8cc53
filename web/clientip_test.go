package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"socket only", "203.0.113.9:5555", nil, nil, "203.0.113.9"},
		{"XFF ignored by default", "203.0.113.9:5555", []string{"198.51.100.1"}, nil, "203.0.113.9"},
		{"XFF ignored from untrusted peer", "203.0.113.9:5555", []string{"198.51.100.1"}, proxies, "203.0.113.9"},
		{"trusted proxy", "10.1.2.3:80", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"spoofed left entries ignored", "10.1.2.3:80", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1, 10.9.9.9, 10.8.8.8"}, proxies, "198.51.100.1"},
		{"several header lines", "10.1.2.3:80", []string{"1.1.1.1", "198.51.100.1"}, proxies, "198.51.100.1"},
		{"all hops trusted", "10.1.2.3:80", []string{"10.5.5.5"}, proxies, "10.5.5.5"},
		{"garbage stops the walk", "10.1.2.3:80", []string{"198.51.100.1, garbage"}, proxies, "10.1.2.3"},
		{"garbage beyond a trusted hop", "10.1.2.3:80", []string{"garbage, 10.4.4.4"}, proxies, "10.4.4.4"},
		{"trusted proxy without XFF", "10.1.2.3:80", nil, proxies, "10.1.2.3"},
		{"entry with port", "10.1.2.3:80", []string{"198.51.100.1:4711"}, proxies, "198.51.100.1"},
		{"IPv6 entry in brackets", "10.1.2.3:80", []string{"[2001:db8::1]:443"}, proxies, "2001:db8::1"},
		{"IPv6 proxy", "[fd00::1]:80", []string{"2001:db8::7"}, proxies, "2001:db8::7"},
		{"IPv4-mapped socket", "[::ffff:203.0.113.9]:80", nil, nil, "203.0.113.9"},
		{"IPv4-mapped proxy trusted as IPv4", "[::ffff:10.1.2.3]:80", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"empty entries skipped", "10.1.2.3:80", []string{"198.51.100.1, , "}, proxies, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tt.trusted); got.String() != tt.want {
				t.Fatalf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestIPRateKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"203.0.113.9", "ip:203.0.113.9"},
		{"2001:db8:1:2:3:4:5:6", "ip:2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "ip:2001:db8:1:2::/64"},
	}
	for _, tt := range tests {
		if got := ipRateKey(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("ipRateKey(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
	if got := ipRateKey(netip.Addr{}); got != "ip:unknown" {
		t.Errorf("invalid address key = %s", got)
	}
}
