package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestHSTS: Strict-Transport-Security is on every response (a page, a JSON
// answer, a 404) that reaches the browser over HTTPS: TLS at this server,
// or a trusted proxy saying X-Forwarded-Proto: https. Never on plain http,
// and never because an untrusted peer says https.
func TestHSTS(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	elsewhere := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name  string
		tls   bool // httptest.NewTLSServer
		cfg   Config
		proto string // X-Forwarded-Proto sent; "" for none
		want  bool
	}{
		{"TLS server", true, Config{}, "", true},
		{"TLS server, proxy header says http", true, Config{}, "http", true},
		{"trusted proxy, https", false, Config{TrustedProxies: loopback}, "https", true},
		{"trusted proxy, HTTPS in capitals", false, Config{TrustedProxies: loopback}, " HTTPS ", true},
		{"trusted proxy, http", false, Config{TrustedProxies: loopback}, "http", false},
		{"trusted proxy, no header", false, Config{TrustedProxies: loopback}, "", false},
		{"untrusted peer claims https", false, Config{TrustedProxies: elsewhere}, "https", false},
		{"no trusted proxies, peer claims https", false, Config{}, "https", false},
		{"plain http", false, Config{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			if tt.tls {
				srv = httptest.NewTLSServer(New(tt.cfg))
			} else {
				srv = httptest.NewServer(New(tt.cfg))
			}
			defer srv.Close()
			for _, path := range []string{"/healthz", "/openapi.json", "/no-such-page"} {
				req, err := http.NewRequest("GET", srv.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.proto != "" {
					req.Header.Set("X-Forwarded-Proto", tt.proto)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := resp.Header.Get("Strict-Transport-Security")
				if tt.want && got != "max-age=31536000; includeSubDomains" || !tt.want && got != "" {
					t.Errorf("GET %s = %d, Strict-Transport-Security %q, want it: %v", path, resp.StatusCode, got, tt.want)
				}
			}
		})
	}
}
