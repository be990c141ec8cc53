package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage/memstore"
	"user-registry/storage/sqlstore"
)

// BenchmarkTokenEndpoint: one client_credentials request through the whole
// handler (routing, middleware, go-oauth2, HMAC check, cached client and
// policy, per-client rate limit on, ES256 signature, response), without the
// network. newTestEnv wants a *testing.T, so the server is built here.
func BenchmarkTokenEndpoint(b *testing.B) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	eph := memstore.New()
	secretKey := make([]byte, 32)
	rand.Read(secretKey)
	mgr, err := keys.NewManager(db, keys.Config{Secret: secretKey})
	if err != nil {
		b.Fatal(err)
	}
	if err := mgr.Ensure(ctx); err != nil {
		b.Fatal(err)
	}
	tokens := keys.NewTokens(mgr, eph, keys.TokenConfig{Issuer: "https://issuer.example"})
	policy := provider.NewDomainPolicy(db, false, nil)
	clients := provider.NewClients(db, db, policy, tokens, secretKey, nil)
	limit, err := provider.NewRateLimiter(eph.Rate(), "1000000000/1m")
	if err != nil {
		b.Fatal(err)
	}
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: clients, Limit: limit})
	if err != nil {
		b.Fatal(err)
	}
	h := New(Config{Issuer: "https://issuer.example", Keys: mgr, Tokens: tokens, Domains: db, Policy: policy,
		Clients: clients, ClientAuth: auth})
	c, secret, err := clients.Create(ctx, provider.ClientSpec{Domain: "example.com", Scopes: []string{"read", "write"}})
	if err != nil {
		b.Fatal(err)
	}
	body := "grant_type=client_credentials&scope=read"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
			req.Header.Set("Content-Type", formCT)
			req.SetBasicAuth(c.ID, secret)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
