package provider_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
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
	return provider.NewClients(st, st, pol, m, []byte("0123456789abcdef0123456789abcdef"), clk.Now), st, clk, m
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
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: cs})
	if err != nil {
		t.Fatal(err)
	}
	// authenticate presents id and secret as client_secret_post (method
	// none without a secret) where public clients are not accepted.
	authenticate := func(id, secret string) error {
		method := provider.AuthSecretPost
		if secret == "" {
			method = provider.AuthNone
		}
		_, err := auth.Authenticate(ctx, provider.ClientCredentials{ID: id, Secret: secret, Method: method}, provider.UseIntrospect)
		return err
	}
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
		err := authenticate(tc.id, tc.secret)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, provider.ErrBadClient)) {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
	}
	// Deleted behind the service's back (the CLI, another node): honoured
	// once the cache entry is ClientCacheTTL old, never later.
	if err := st.DeleteClient(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := authenticate(c.ID, secret); err != nil {
		t.Fatalf("within TTL: %v", err)
	}
	clk.Advance(provider.ClientCacheTTL)
	if err := authenticate(c.ID, secret); !errors.Is(err, provider.ErrBadClient) {
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
	cs2 := provider.NewClients(st, st, provider.NewDomainPolicy(st, false, nil), m, []byte("k"), nil)
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

// TestClientsForUser: the /clients rules (SPEC §5). Only a verified user
// of an allowed domain registers, for the domain of the stored record; a
// user lists and deletes only the clients they registered; the operators'
// clients and other users' are not found.
func TestClientsForUser(t *testing.T) {
	ctx := context.Background()
	cs, st, _, _ := newClients(t)
	users := map[string]storage.User{}
	for _, u := range []storage.User{
		{ID: "u-ann", Email: "ann@example.com", EmailCanonical: "ann@example.com", Domain: "example.com", IsActivated: true},
		{ID: "u-bob", Email: "bob@example.com", EmailCanonical: "bob@example.com", Domain: "example.com", IsActivated: true},
		{ID: "u-new", Email: "new@example.com", EmailCanonical: "new@example.com", Domain: "example.com"},
		{ID: "u-eve", Email: "eve@evil.com", EmailCanonical: "eve@evil.com", Domain: "evil.com", IsActivated: true},
	} {
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		users[u.ID] = u
	}
	if err := st.PutDomain(ctx, storage.DomainRecord{Domain: "evil.com", BelongsTo: storage.DomainBlocked}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user string
		err  error
	}{
		{"u-new", provider.ErrNotVerified},
		{"u-eve", provider.ErrClientDomainBlocked},
		{"u-gone", provider.ErrUnauthenticated},
	} {
		if _, _, err := cs.RegisterForUser(ctx, tc.user, "x"); !errors.Is(err, tc.err) {
			t.Errorf("register for %s: %v, want %v", tc.user, err, tc.err)
		}
	}
	if _, _, err := cs.RegisterForUser(ctx, "u-ann", "bad\x00name"); !errors.Is(err, provider.ErrInvalidInput) {
		t.Errorf("bad name: %v", err)
	}

	ann, secret, err := cs.RegisterForUser(ctx, "u-ann", "billing")
	if err != nil {
		t.Fatal(err)
	}
	if ann.CreatedBy != "u-ann" || ann.Domain != "example.com" || ann.Admin || secret == "" {
		t.Fatalf("registered %+v", ann)
	}
	if stored, err := cs.Get(ctx, ann.ID); err != nil || stored.CreatedBy != "u-ann" {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	bob, _, err := cs.RegisterForUser(ctx, "u-bob", "")
	if err != nil {
		t.Fatal(err)
	}
	cli, _, err := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	if cli.CreatedBy != "" {
		t.Fatalf("CLI client has a creator: %+v", cli)
	}

	for user, want := range map[string][]string{"u-ann": {ann.ID}, "u-bob": {bob.ID}, "u-new": nil, "": nil} {
		list, err := cs.ListForUser(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("clients of %q = %v, want %v", user, ids, want)
		}
	}

	for _, tc := range []struct {
		name, user, id string
		err            error
	}{
		{"another user's client", "u-bob", ann.ID, provider.ErrClientNotFound},
		{"the operators' client", "u-ann", cli.ID, provider.ErrClientNotFound},
		{"no user", "", cli.ID, provider.ErrClientNotFound},
		{"unknown id", "u-ann", "nope", provider.ErrClientNotFound},
		{"own client", "u-ann", ann.ID, nil},
		{"own client again", "u-ann", ann.ID, provider.ErrClientNotFound},
	} {
		if err := cs.RemoveForUser(ctx, tc.user, tc.id); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	for _, id := range []string{bob.ID, cli.ID} {
		if _, err := cs.Get(ctx, id); err != nil {
			t.Errorf("client %s lost: %v", id, err)
		}
	}
	if err := cs.Delete(ctx, cli.ID); err != nil {
		t.Fatalf("operators delete: %v", err)
	}
}
