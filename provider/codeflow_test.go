package provider_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// flowEnv is a CodeFlow over a memstore and the fake clock of acctEnv.
type flowEnv struct {
	*acctEnv
	flow    *provider.CodeFlow
	clients *provider.Clients
}

func newFlowEnv(t *testing.T) flowEnv {
	t.Helper()
	e := newAcctEnv(t)
	cs := provider.NewClients(e.store, e.store, provider.NewDomainPolicy(e.store, false, e.clk.Now), e.tokens,
		[]byte("0123456789abcdef0123456789abcdef"), e.clk.Now)
	f, err := provider.NewCodeFlow(provider.CodeFlowDeps{
		Accounts: e.acc, Clients: cs, Store: e.store, Revocations: e.store, IDs: e.tokens, Now: e.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return flowEnv{e, f, cs}
}

func (e flowEnv) client(t *testing.T, spec provider.ClientSpec) storage.Client {
	t.Helper()
	spec.Domain = "app.example"
	if len(spec.GrantTypes) == 0 {
		spec.GrantTypes = []string{provider.GrantAuthorizationCode, provider.GrantRefreshToken}
	}
	c, _, err := e.clients.Create(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const flowVerifier = "verifier-0123456789-0123456789-0123456789-xyz"

func TestValidateAuthorizeRedirectMatching(t *testing.T) {
	e := newFlowEnv(t)
	conf := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1/cb"}})
	pub := e.client(t, provider.ClientSpec{Public: true, RedirectURIs: []string{"http://127.0.0.1/cb?x=1", "http://[::1]/cb", "com.example.app:/cb"}})
	for _, tc := range []struct {
		client   storage.Client
		redirect string
		ok       bool
	}{
		{conf, "https://app.example/cb", true},
		{conf, "https://app.example/cb/", false},
		{conf, "https://APP.example/cb", false},
		{conf, "https://app.example/cb?x=1", false},
		{conf, "http://127.0.0.1/cb", true},
		{conf, "http://127.0.0.1:8080/cb", false}, // any port only for public clients
		{pub, "http://127.0.0.1:8080/cb?x=1", true},
		{pub, "http://127.0.0.1/cb?x=1", true},
		{pub, "http://127.0.0.1:8080/cb", false},
		{pub, "http://127.0.0.1:8080/cb?x=2", false},
		{pub, "http://127.0.0.1:99999/cb?x=1", false},
		{pub, "http://127.0.0.1:0/cb?x=1", false},
		{pub, "http://[::1]:1234/cb", true},
		{pub, "https://[::1]:1234/cb", false},
		{pub, "http://localhost:1234/cb", false},
		{pub, "http://user@127.0.0.1:1234/cb?x=1", false},
		{pub, "http://127.0.0.1:1234/cb?x=1#f", false},
		{pub, "com.example.app:/cb", true},
		{pub, "com.example.app:/other", false},
	} {
		t.Run(tc.redirect, func(t *testing.T) {
			_, err := e.flow.ValidateAuthorize(context.Background(), provider.AuthorizeParams{
				ResponseType: "code", ClientID: tc.client.ID, RedirectURI: tc.redirect, State: "s",
				CodeChallenge: provider.S256Challenge(flowVerifier), CodeChallengeMethod: "S256",
			})
			var ae *provider.AuthorizeError
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.ok && (!errors.As(err, &ae) || ae.RedirectURI != ""):
				t.Fatalf("err = %v, want an error page (no redirect)", err)
			}
		})
	}
}

func TestAuthorizeScopesAndURLs(t *testing.T) {
	e := newFlowEnv(t)
	c := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb?tenant=7"}, Scopes: []string{"openid", "email"}})
	base := provider.AuthorizeParams{ResponseType: "code", ClientID: c.ID, RedirectURI: "https://app.example/cb?tenant=7", State: "a b&c"}
	req, err := e.flow.ValidateAuthorize(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if req.Scope() != "openid email" {
		t.Errorf("default scope %q, want the registered ones", req.Scope())
	}
	u, _ := url.Parse(req.SuccessURL("the-code"))
	if q := u.Query(); q.Get("tenant") != "7" || q.Get("code") != "the-code" || q.Get("state") != "a b&c" || u.Host != "app.example" {
		t.Errorf("success URL %s", u)
	}
	u, _ = url.Parse(req.DenyURL())
	if q := u.Query(); q.Get("error") != "access_denied" || q.Get("state") != "a b&c" || q.Get("tenant") != "7" {
		t.Errorf("deny URL %s", u)
	}
	p := base
	p.Scope = "email email openid"
	if req, err = e.flow.ValidateAuthorize(context.Background(), p); err != nil || req.Scope() != "openid email" {
		t.Errorf("scope %q, %v", req.Scope(), err)
	}
	p.Scope = "openid phone"
	_, err = e.flow.ValidateAuthorize(context.Background(), p)
	var ae *provider.AuthorizeError
	if !errors.As(err, &ae) || ae.Code != "invalid_scope" || !strings.Contains(ae.URL(), "state=a+b%26c") {
		t.Errorf("unregistered scope: %v", err)
	}
}

// TestCodeLifetime: codes expire after 60 s (fake clock), are single use,
// and a second use revokes the family and sid of the first exchange.
func TestCodeLifetime(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	u := e.signup(t, "bob@flow.example", "correct-horse-battery-9")
	c := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}})
	req, err := e.flow.ValidateAuthorize(ctx, provider.AuthorizeParams{
		ResponseType: "code", ClientID: c.ID, RedirectURI: "https://app.example/cb", Scope: "openid email offline_access",
		Nonce: "n", CodeChallenge: provider.S256Challenge(flowVerifier), CodeChallengeMethod: "S256",
	})
	if err != nil {
		t.Fatal(err)
	}
	x := func(code string) provider.CodeExchange {
		return provider.CodeExchange{Code: code, RedirectURI: "https://app.example/cb", CodeVerifier: flowVerifier}
	}

	code, err := e.flow.IssueCode(ctx, provider.SignIn{User: u, AuthTime: e.clk.Now()}, req)
	if err != nil || len(code) < 43 {
		t.Fatalf("code %q, %v", code, err)
	}
	e.clk.Advance(61 * time.Second)
	if _, err := e.flow.Exchange(ctx, c, x(code)); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("expired code: %v, want ErrInvalidGrant", err)
	}

	code, _ = e.flow.IssueCode(ctx, provider.SignIn{User: u, AuthTime: e.clk.Now()}, req)
	e.clk.Advance(59 * time.Second)
	tok, err := e.flow.Exchange(ctx, c, x(code))
	if err != nil {
		t.Fatalf("exchange at 59 s: %v", err)
	}
	if tok.IDToken == "" || tok.RefreshToken == "" || tok.Scope != "openid email offline_access" {
		t.Fatalf("tokens %+v", tok)
	}
	id, err := e.tokens.VerifyID(ctx, tok.IDToken, c.ID)
	if err != nil || id.Nonce != "n" || id.Email != "bob@flow.example" || id.SID != tok.Claims.SID || id.AtHash == "" {
		t.Fatalf("id token %+v, %v", id, err)
	}
	if _, err := e.flow.Exchange(ctx, c, x(code)); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("reused code: %v", err)
	}
	if _, err := e.tokens.VerifyAccess(ctx, tok.AccessToken, ""); err == nil {
		t.Error("access token of a reused code still verifies")
	}
	if _, err := e.flow.RefreshGrant(ctx, c, tok.RefreshToken, "", ""); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Errorf("refresh of a reused code: %v", err)
	}
}

// TestConsentRemembered: an approval covers its scopes for 30 days.
func TestConsentRemembered(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	c := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}})
	req := provider.AuthorizeRequest{Client: c, Scopes: []string{"openid", "email"}}
	need := func(r provider.AuthorizeRequest) bool {
		n, err := e.flow.ConsentNeeded(ctx, "user-1", r)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if !need(req) {
		t.Fatal("no consent needed before approval")
	}
	if err := e.flow.Approve(ctx, "user-1", req); err != nil {
		t.Fatal(err)
	}
	if need(req) || need(provider.AuthorizeRequest{Client: c, Scopes: []string{"openid"}}) {
		t.Error("consent asked again for approved scopes")
	}
	if !need(provider.AuthorizeRequest{Client: c, Scopes: []string{"openid", "phone"}}) {
		t.Error("no consent asked for a new scope")
	}
	e.clk.Advance(provider.DefaultConsentTTL + time.Second)
	if !need(req) {
		t.Error("consent remembered beyond its TTL")
	}
	c.Trusted = true
	if need(provider.AuthorizeRequest{Client: c, Scopes: []string{"openid", "phone"}}) {
		t.Error("trusted client needs consent")
	}
}
