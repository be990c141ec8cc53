package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	"user-registry/provider"
)

// limitIP turns the per-IP limit on (N/DURATION; "0" = off) and trusts the
// given proxies.
func limitIP(spec string, trusted ...string) envOption {
	return func(c *Config, _ *provider.AccountsConfig) {
		c.IPLimit = envLimiter(c, spec)
		for _, p := range trusted {
			c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(p))
		}
	}
}

const msgRateLimited = "Too many requests. Please try again later."

// wantRateLimited asserts a 429 JSON answer with a sane Retry-After.
func wantRateLimited(t *testing.T, r apiResp) {
	t.Helper()
	wantMessage(t, r, http.StatusTooManyRequests, msgRateLimited)
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
}

// TestAPIRateLimitPerIP: /login, /signup and / share one budget per client
// address (SEC-38); X-Forwarded-For cannot buy a fresh budget unless the
// peer is a trusted proxy.
func TestAPIRateLimitPerIP(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b, limitIP("3/1m", "10.0.0.0/8"))
			h := env.Handler
			creds := jsonBody(map[string]string{"email": "rl@example.com", "password": testPassword})
			attacker := withRemote("203.0.113.7:1234")

			// Three requests over the three paths use the budget up, each
			// with a different spoofed X-Forwarded-For.
			call(t, h, "POST", "/signup", creds, attacker, withHeader("X-Forwarded-For", "198.51.100.1"))
			call(t, h, "POST", "/login", creds, attacker, withHeader("X-Forwarded-For", "198.51.100.2"))
			call(t, h, "POST", "/", creds, attacker, withHeader("X-Forwarded-For", "198.51.100.3"))
			for _, path := range []string{"/login", "/signup", "/"} {
				wantRateLimited(t, call(t, h, "POST", path, creds, attacker, withHeader("X-Forwarded-For", "198.51.100.4")))
			}
			// Bad requests count too, and are refused before decoding.
			wantRateLimited(t, call(t, h, "POST", "/login", "not json", attacker, withCT("text/plain")))

			// Other addresses and other endpoints are unaffected.
			wantTokens(t, call(t, h, "POST", "/login", creds, withRemote("203.0.113.8:1")))
			wantMessage(t, call(t, h, "POST", "/refresh", `{"refresh_token":"x"}`, attacker), 401, "Invalid or expired token.")

			// Behind a trusted proxy each forwarded client has its own budget,
			// and only the entry the proxy appended counts.
			proxy := withRemote("10.0.0.1:443")
			for i := range 5 {
				client := withHeader("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", 10+i))
				if r := call(t, h, "POST", "/login", creds, proxy, client); r.Status != http.StatusOK {
					t.Fatalf("forwarded client %d: %d %s", i, r.Status, r.Raw)
				}
			}
			for i := range 3 {
				spoof := withHeader("X-Forwarded-For", fmt.Sprintf("1.1.1.%d, 198.51.100.99", i))
				if r := call(t, h, "POST", "/login", creds, proxy, spoof); r.Status != http.StatusOK {
					t.Fatalf("request %d: %d %s", i, r.Status, r.Raw)
				}
			}
			wantRateLimited(t, call(t, h, "POST", "/login", creds, proxy, withHeader("X-Forwarded-For", "1.1.1.200, 198.51.100.99")))
		})
	}
}

// TestAPIRateLimitOff: "0" turns the per-IP limit off.
func TestAPIRateLimitOff(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory", limitIP("0"))
	for range 20 {
		r := call(t, env.Handler, "POST", "/login", `{}`, withRemote("203.0.113.7:1"))
		wantMessage(t, r, http.StatusBadRequest, msgLoginFieldsMiss)
	}
}
