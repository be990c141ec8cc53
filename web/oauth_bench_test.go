package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"user-registry/provider"
)

// BenchmarkTokenEndpoint: one client_credentials request through the whole
// handler (routing, middleware, go-oauth2, HMAC check, cached client and
// policy, per-client rate limit on, ES256 signature, response), without the
// network.
func BenchmarkTokenEndpoint(b *testing.B) {
	e := newOAuthEnv(b, "sqlite+memory", "1000000000/1m")
	id, secret := e.client(b, provider.ClientSpec{Domain: "example.com", Scopes: []string{"read", "write"}})
	h := e.Handler
	body := "grant_type=client_credentials&scope=read"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
			req.Header.Set("Content-Type", formCT)
			req.SetBasicAuth(id, secret)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
