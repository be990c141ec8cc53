package provider_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// fakeMinter records what would be signed.
type fakeMinter struct{ last keys.AccessClaims }

func (m *fakeMinter) MintAccess(_ context.Context, c keys.AccessClaims) (string, keys.AccessClaims, error) {
	m.last = c
	return "tok", c, nil
}

func newClients(t *testing.T) (*provider.Clients, *memstore.Store, *fakeClock, *fakeMinter) {
	t.Helper()
	st := memstore.New()
	clk := newClock() // domainpolicy_test.go
	m := &fakeMinter{}
	pol := provider.NewDomainPolicy(st, false, clk.Now)
	return provider.NewClients(st, pol, m, []byte("0123456789abcdef0123456789abcdef"), clk.Now), st, clk, m
}

func TestCreateValidation(t *testing.T) {
	cs, _, _, _ := newClients(t)
	for _, tc := range []struct {
		name string
		spec provider.ClientSpec
		ok   bool
	}{
		{"default", provider.ClientSpec{Domain: "Example.COM."}, true},
		{"bad domain", provider.ClientSpec{Domain: "not a domain"}, false},
		{"password grant", provider.ClientSpec{Domain: "a.com", GrantTypes: []string{"password"}}, false},
		{"implicit grant", provider.ClientSpec{Domain: "a.com", GrantTypes: []string{"implicit"}}, false},
		{"code without redirect", provider.ClientSpec{Domain: "a.com", GrantTypes: []string{"authorization_code"}}, true},
		{"code", provider.ClientSpec{Domain: "a.com", GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectURIs: []string{"https://a.com/cb"}}, true},
		{"refresh alone", provider.ClientSpec{Domain: "a.com", GrantTypes: []string{"refresh_token"}}, false},
		{"relative redirect", provider.ClientSpec{Domain: "a.com", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"/cb"}}, false},
		{"fragment redirect", provider.ClientSpec{Domain: "a.com", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://a.com/cb#x"}}, false},
		{"native redirect", provider.ClientSpec{Domain: "a.com", Public: true, RedirectURIs: []string{"com.a.app:/cb"}}, true},
		{"public client_credentials", provider.ClientSpec{Domain: "a.com", Public: true, GrantTypes: []string{"client_credentials"}}, false},
		{"bad scope", provider.ClientSpec{Domain: "a.com", Scopes: []string{`a"b`}}, false},
		{"admin scope without admin", provider.ClientSpec{Domain: "a.com", Scopes: []string{"registry:admin"}}, false},
		{"bad audience", provider.ClientSpec{Domain: "a.com", Audiences: []string{"a b"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, secret, err := cs.Create(context.Background(), tc.spec)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, provider.ErrInvalidInput) {
				t.Fatalf("err %v is not ErrInvalidInput", err)
			}
			if err == nil && !tc.spec.Public && (len(secret) != 43 || bytes.Contains(c.SecretHash, []byte(secret)) || len(c.SecretHash) != 32) {
				t.Fatalf("secret %q hash %x", secret, c.SecretHash)
			}
		})
	}
}

func TestAuthenticateAndCache(t *testing.T) {
	ctx := context.Background()
	cs, st, clk, _ := newClients(t)
	c, secret, err := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", Public: true, RedirectURIs: []string{"https://x.example/cb"}})
	// A secret differing in its last character (never equal to it).
	wrong := secret[:len(secret)-1] + "A"
	if secret[len(secret)-1] == 'A' {
		wrong = secret[:len(secret)-1] + "B"
	}
	for _, tc := range []struct {
		name, id, secret string
		ok               bool
	}{
		{"right", c.ID, secret, true},
		{"wrong", c.ID, wrong, false},
		{"unknown", "nobody", secret, false},
		{"empty", "", "", false},
		{"public", pub.ID, "", false},
	} {
		_, err := cs.Authenticate(ctx, tc.id, tc.secret)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, provider.ErrBadClient)) {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
	}
	// Deleted behind the service's back (the CLI, another node): honoured
	// once the cache entry is ClientCacheTTL old, never later.
	if err := st.DeleteClient(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Authenticate(ctx, c.ID, secret); err != nil {
		t.Fatalf("within TTL: %v", err)
	}
	clk.Advance(provider.ClientCacheTTL)
	if _, err := cs.Authenticate(ctx, c.ID, secret); !errors.Is(err, provider.ErrBadClient) {
		t.Fatalf("after TTL: %v", err)
	}
}

func TestIssueAuthority(t *testing.T) {
	ctx := context.Background()
	cs, st, _, m := newClients(t)
	c, _, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", Scopes: []string{"read", "write"}, Audiences: []string{"api"}, Admin: true})
	for _, tc := range []struct {
		scope     string
		aud       []string
		wantScope string
		err       error
	}{
		{"", nil, "read write registry:admin", nil},
		{"read", []string{"api"}, "read registry:admin", nil},
		{"read  read", nil, "read registry:admin", nil},
		{"delete", nil, "", provider.ErrInvalidScope},
		{"read", []string{"other"}, "", provider.ErrInvalidTarget},
	} {
		_, claims, err := cs.IssueAuthority(ctx, c, tc.scope, tc.aud)
		if !errors.Is(err, tc.err) || (err == nil && (claims.Scope != tc.wantScope || m.last.Subject != c.ID || m.last.ClientID != c.ID || m.last.Domain != "example.com")) {
			t.Fatalf("%q %v: %+v %v", tc.scope, tc.aud, claims, err)
		}
	}
	if err := st.PutDomain(ctx, storage.DomainRecord{Domain: "example.com", BelongsTo: storage.DomainBlocked}); err != nil {
		t.Fatal(err)
	}
	cs2 := provider.NewClients(st, provider.NewDomainPolicy(st, false, nil), m, []byte("k"), nil)
	if _, _, err := cs2.IssueAuthority(ctx, c, "", nil); !errors.Is(err, provider.ErrUnauthorizedClient) {
		t.Fatalf("blocked: %v", err)
	}
	if err := provider.RequireDomain(c, "EXAMPLE.com."); err != nil {
		t.Fatal(err)
	}
	if err := provider.RequireDomain(c, "other.org"); !errors.Is(err, provider.ErrUnauthorizedClient) {
		t.Fatalf("other domain: %v", err)
	}
}

func TestDeleteOtherDomain(t *testing.T) {
	ctx := context.Background()
	cs, _, _, _ := newClients(t)
	c, _, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com"})
	if err := cs.Delete(ctx, c.ID, "other.org"); !errors.Is(err, provider.ErrClientNotFound) {
		t.Fatalf("other domain: %v", err)
	}
	if err := cs.Delete(ctx, c.ID, "example.com"); err != nil {
		t.Fatal(err)
	}
	if err := cs.Delete(ctx, c.ID, ""); !errors.Is(err, provider.ErrClientNotFound) {
		t.Fatalf("again: %v", err)
	}
}
