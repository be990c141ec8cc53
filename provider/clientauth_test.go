package provider_test

import (
	"context"
	"errors"
	"testing"

	"user-registry/provider"
	"user-registry/storage/memstore"
)

// TestClientAuthMethods: each method against each use. Secrets are checked
// for client_secret_basic and client_secret_post alike; method none admits
// a public client where the use allows one (code grants, revocation) and
// nothing else; every failure is the same ErrBadClient.
func TestClientAuthMethods(t *testing.T) {
	ctx := context.Background()
	cs, _, _, _ := newClients(t)
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: cs})
	if err != nil {
		t.Fatal(err)
	}
	conf, secret, err := cs.Create(ctx, provider.ClientSpec{Domain: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", Public: true, RedirectURIs: []string{"https://x.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	all := []provider.ClientUse{provider.UseClientCredentials, provider.UseCodeGrant, provider.UseRevoke, provider.UseIntrospect}
	publicOK := map[provider.ClientUse]bool{provider.UseCodeGrant: true, provider.UseRevoke: true}
	for _, tc := range []struct {
		name string
		cr   provider.ClientCredentials
		ok   func(provider.ClientUse) bool // nil: never
		want string                        // the client authenticated
	}{
		{"basic", provider.ClientCredentials{ID: conf.ID, Secret: secret, Method: provider.AuthSecretBasic}, func(provider.ClientUse) bool { return true }, conf.ID},
		{"post", provider.ClientCredentials{ID: conf.ID, Secret: secret, Method: provider.AuthSecretPost}, func(provider.ClientUse) bool { return true }, conf.ID},
		{"wrong secret", provider.ClientCredentials{ID: conf.ID, Secret: secret + "x", Method: provider.AuthSecretBasic}, nil, ""},
		{"unknown id", provider.ClientCredentials{ID: "nobody", Secret: secret, Method: provider.AuthSecretPost}, nil, ""},
		{"secret method without secret", provider.ClientCredentials{ID: conf.ID, Method: provider.AuthSecretBasic}, nil, ""},
		{"confidential with none", provider.ClientCredentials{ID: conf.ID, Method: provider.AuthNone}, nil, ""},
		{"public with none", provider.ClientCredentials{ID: pub.ID, Method: provider.AuthNone}, func(u provider.ClientUse) bool { return publicOK[u] }, pub.ID},
		{"public with a secret", provider.ClientCredentials{ID: pub.ID, Secret: "anything", Method: provider.AuthSecretPost}, nil, ""},
		{"none carrying a secret", provider.ClientCredentials{ID: pub.ID, Secret: "anything", Method: provider.AuthNone}, nil, ""},
		{"unknown id with none", provider.ClientCredentials{ID: "nobody", Method: provider.AuthNone}, nil, ""},
		{"no id", provider.ClientCredentials{Secret: secret, Method: provider.AuthSecretPost}, nil, ""},
		{"unknown method", provider.ClientCredentials{ID: conf.ID, Secret: secret, Method: "private_key_jwt"}, nil, ""},
	} {
		for _, use := range all {
			c, err := auth.Authenticate(ctx, tc.cr, use)
			if tc.ok != nil && tc.ok(use) {
				if err != nil || c.ID != tc.want {
					t.Errorf("%s use %d: %q %v, want %s", tc.name, use, c.ID, err, tc.want)
				}
				continue
			}
			if !errors.Is(err, provider.ErrBadClient) || c.ID != "" {
				t.Errorf("%s use %d: %q %v, want ErrBadClient", tc.name, use, c.ID, err)
			}
		}
	}
}

// TestClientAuthRateLimit: the per-client limit counts authenticated
// requests only, once each, per client.
func TestClientAuthRateLimit(t *testing.T) {
	ctx := context.Background()
	cs, _, _, _ := newClients(t)
	limit, err := provider.NewRateLimiter(memstore.New().Rate(), "2/1m")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: cs, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	a, secret, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com"})
	b, otherSecret, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com"})
	for range 5 {
		if _, err := auth.Authenticate(ctx, provider.ClientCredentials{ID: a.ID, Secret: "wrong", Method: provider.AuthSecretBasic}, provider.UseIntrospect); !errors.Is(err, provider.ErrBadClient) {
			t.Fatalf("wrong secret: %v", err)
		}
	}
	good := provider.ClientCredentials{ID: a.ID, Secret: secret, Method: provider.AuthSecretBasic}
	for i := range 2 {
		if _, err := auth.Authenticate(ctx, good, provider.UseClientCredentials); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	_, err = auth.Authenticate(ctx, good, provider.UseRevoke)
	var rl *provider.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("third request: %v", err)
	}
	if _, err := auth.Authenticate(ctx, provider.ClientCredentials{ID: b.ID, Secret: otherSecret, Method: provider.AuthSecretPost}, provider.UseIntrospect); err != nil {
		t.Fatalf("another client: %v", err)
	}
}

// TestClientCredentialsGrant: the grant authenticates first, then checks
// the requested domain, then issues through go-oauth2 with the scope and
// audience asked for.
func TestClientCredentialsGrant(t *testing.T) {
	ctx := context.Background()
	cs, _, _, m := newClients(t)
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: cs})
	if err != nil {
		t.Fatal(err)
	}
	c, secret, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", Scopes: []string{"read", "write"}, Audiences: []string{"api"}})
	pub, _, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", Public: true, RedirectURIs: []string{"https://x.example/cb"}})
	good := provider.ClientCredentials{ID: c.ID, Secret: secret, Method: provider.AuthSecretPost}
	tok, err := auth.ClientCredentialsGrant(ctx, good, provider.AuthorityRequest{Scope: "read", Domain: "EXAMPLE.com", Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok" || tok.Scope != "read" || tok.Domain != "example.com" ||
		m.last.ClientID != c.ID || len(m.last.Audience) != 1 || m.last.Audience[0] != "api" {
		t.Fatalf("token %+v, minted %+v", tok, m.last)
	}
	for _, tc := range []struct {
		name string
		cr   provider.ClientCredentials
		req  provider.AuthorityRequest
		want error
	}{
		{"wrong secret", provider.ClientCredentials{ID: c.ID, Secret: "x", Method: provider.AuthSecretPost}, provider.AuthorityRequest{}, provider.ErrBadClient},
		{"wrong secret and another domain", provider.ClientCredentials{ID: c.ID, Secret: "x", Method: provider.AuthSecretPost}, provider.AuthorityRequest{Domain: "other.org"}, provider.ErrBadClient},
		{"public client", provider.ClientCredentials{ID: pub.ID, Method: provider.AuthNone}, provider.AuthorityRequest{}, provider.ErrBadClient},
		{"another domain", good, provider.AuthorityRequest{Domain: "other.org"}, provider.ErrUnauthorizedClient},
		{"unregistered scope", good, provider.AuthorityRequest{Scope: "admin"}, provider.ErrInvalidScope},
		{"unregistered audience", good, provider.AuthorityRequest{Audience: []string{"other"}}, provider.ErrInvalidTarget},
	} {
		if _, err := auth.ClientCredentialsGrant(ctx, tc.cr, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
