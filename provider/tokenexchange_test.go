package provider_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// outsideIssuer plays a CI system's OIDC issuer: a discovery document and
// a JWKS over httptest, and RS256 tokens signed with its key.
type outsideIssuer struct {
	url string
	key testKey
}

func newOutsideIssuer(t *testing.T) *outsideIssuer {
	t.Helper()
	o := &outsideIssuer{key: newTestKey(t, jwa.RS256, "ci-1")}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": o.url, "jwks_uri": o.url + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(jwksOf(t, o.key)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	o.url = srv.URL
	return o
}

// token signs claims (iss, aud = our issuer, iat, exp in 10 min, and sub)
// changed by modify.
func (o *outsideIssuer) token(t *testing.T, now time.Time, sub string, modify func(map[string]any)) string {
	c := map[string]any{"iss": o.url, "sub": sub, "aud": testIssuer, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	if modify != nil {
		modify(c)
	}
	return signJWT(t, o.key, c, nil)
}

type exchangeEnv struct {
	fed    *provider.Federation
	tokens *keys.Tokens
	clk    *fakeClock
	log    *bytes.Buffer
	a, b   *outsideIssuer
	ta, tb storage.Trust
}

func newExchangeEnv(t *testing.T) *exchangeEnv {
	t.Helper()
	ctx := t.Context()
	clk := newClock()
	st := memstore.New(memstore.WithClock(clk.Now))
	sec := make([]byte, 32)
	_, _ = rand.Read(sec)
	m, err := keys.NewManager(st, keys.Config{Secret: sec, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	e := &exchangeEnv{clk: clk, log: &bytes.Buffer{}, a: newOutsideIssuer(t), b: newOutsideIssuer(t)}
	e.tokens = keys.NewTokens(m, st, keys.TokenConfig{Issuer: testIssuer, Now: clk.Now})
	e.fed, err = provider.NewFederation(provider.FederationDeps{
		Store: st, Issuer: testIssuer, Tokens: e.tokens, Policy: provider.NewDomainPolicy(st, false, clk.Now),
		Now: clk.Now, Log: slog.New(slog.NewTextHandler(e.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.ta, err = e.fed.Add(ctx, provider.TrustSpec{Domain: "a.example", Issuer: e.a.url,
		Subject: "repo:acme/*:ref:refs/heads/main", Scopes: []string{"deploy", "read"}}); err != nil {
		t.Fatal(err)
	}
	if e.tb, err = e.fed.Add(ctx, provider.TrustSpec{Domain: "b.example", Issuer: e.b.url,
		Subject: "*", Audience: "https://registry.b.example", Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *exchangeEnv) exchange(t *testing.T, token, scope, domain string) (provider.AuthorityToken, error) {
	return e.fed.Exchange(t.Context(), provider.ExchangeRequest{SubjectToken: token,
		SubjectTokenType: provider.TokenTypeJWT, Scope: scope, Domain: domain})
}

// TestTokenExchangeIssues: a trusted outside token yields an authority
// token for the trust's domain: sub = the outside sub, client_id = the
// trust, scope within the trust's.
func TestTokenExchangeIssues(t *testing.T) {
	e := newExchangeEnv(t)
	now := e.clk.Now()
	for _, tc := range []struct {
		name, token, scope, domain string
		trust                      storage.Trust
		sub, wantScope             string
	}{
		{"glob", e.a.token(t, now, "repo:acme/app:ref:refs/heads/main", nil), "", "",
			e.ta, "repo:acme/app:ref:refs/heads/main", "deploy read"},
		{"star spans / and :", e.a.token(t, now, "repo:acme/team/app:x:ref:refs/heads/main", nil), "deploy", "a.example",
			e.ta, "repo:acme/team/app:x:ref:refs/heads/main", "deploy"},
		{"lifetime exactly 1 h", e.a.token(t, now, "repo:acme/app:ref:refs/heads/main", func(c map[string]any) {
			c["exp"] = now.Add(time.Hour).Unix()
		}), "", "", e.ta, "repo:acme/app:ref:refs/heads/main", "deploy read"},
		{"nbf instead of iat", e.a.token(t, now, "repo:acme/app:ref:refs/heads/main", func(c map[string]any) {
			delete(c, "iat")
			c["nbf"] = now.Unix()
		}), "", "", e.ta, "repo:acme/app:ref:refs/heads/main", "deploy read"},
		{"issuer B, its own audience", e.b.token(t, now, "system:serviceaccount:ci:deployer", func(c map[string]any) {
			c["aud"] = []string{"x", "https://registry.b.example"}
		}), "", "", e.tb, "system:serviceaccount:ci:deployer", "read"},
	} {
		got, err := e.exchange(t, tc.token, tc.scope, tc.domain)
		if err != nil {
			t.Errorf("%s: %v (log: %s)", tc.name, err, e.log)
			continue
		}
		claims, err := e.tokens.VerifyAccess(t.Context(), got.AccessToken, testIssuer)
		if err != nil {
			t.Fatalf("%s: the issued token does not verify: %v", tc.name, err)
		}
		if claims.Subject != tc.sub || claims.ClientID != tc.trust.ID || claims.Domain != tc.trust.Domain ||
			claims.Scope != tc.wantScope || got.Domain != tc.trust.Domain || got.Scope != tc.wantScope {
			t.Errorf("%s: claims %+v, answer %+v; want sub %s, trust %s, scope %q", tc.name, claims, got, tc.sub, tc.trust.ID, tc.wantScope)
		}
	}
}

// TestTokenExchangeRefused is SEC-62's table: every refusal is the same
// invalid_grant, and the log names the check that failed.
func TestTokenExchangeRefused(t *testing.T) {
	e := newExchangeEnv(t)
	now := e.clk.Now()
	main := "repo:acme/app:ref:refs/heads/main"
	stranger := newOutsideIssuer(t)
	own, _, err := e.tokens.MintAccess(t.Context(), keys.AccessClaims{Subject: "c1", ClientID: "c1", Domain: "a.example"})
	if err != nil {
		t.Fatal(err)
	}
	forged := newTestKey(t, jwa.RS256, "ci-1") // A's kid, not A's key
	for _, tc := range []struct {
		name, token, scope, domain string
		log                        string // in the log line
	}{
		{"prefix trick: longer ref", e.a.token(t, now, main+"-evil", nil), "", "", "matches no trust"},
		{"prefix trick: other branch", e.a.token(t, now, "repo:acme/app:ref:refs/heads/mainline", nil), "", "", "matches no trust"},
		{"prefix trick: leading text", e.a.token(t, now, "xrepo:acme/app:ref:refs/heads/main", nil), "", "", "matches no trust"},
		{"other org", e.a.token(t, now, "repo:evil/app:ref:refs/heads/main", nil), "", "", "matches no trust"},
		{"case differs", e.a.token(t, now, "repo:ACME/app:ref:refs/heads/main", nil), "", "", "matches no trust"},
		{"wrong aud", e.a.token(t, now, main, func(c map[string]any) { c["aud"] = "https://elsewhere.example" }), "", "", "aud"},
		{"B's audience at A", e.a.token(t, now, main, func(c map[string]any) { c["aud"] = "https://registry.b.example" }), "", "", "aud"},
		{"expired", e.a.token(t, now, main, func(c map[string]any) {
			c["iat"], c["exp"] = now.Add(-20*time.Minute).Unix(), now.Add(-time.Minute).Unix()
		}), "", "", "expired"},
		{"not yet valid", e.a.token(t, now, main, func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), "", "", "not yet valid"},
		{"issued in the future", e.a.token(t, now, main, func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() }), "", "", "future"},
		{"lifetime over 1 h", e.a.token(t, now, main, func(c map[string]any) { c["exp"] = now.Add(61 * time.Minute).Unix() }), "", "", "lifetime"},
		{"no iat or nbf", e.a.token(t, now, main, func(c map[string]any) { delete(c, "iat") }), "", "", "lifetime unknown"},
		{"no exp", e.a.token(t, now, main, func(c map[string]any) { delete(c, "exp") }), "", "", "no exp"},
		{"no sub", e.a.token(t, now, "", nil), "", "", "sub"},
		{"unknown issuer", stranger.token(t, now, main, nil), "", "", "unknown issuer"},
		{"trusted iss, stranger's key", signJWT(t, stranger.key, map[string]any{"iss": e.a.url, "sub": main, "aud": testIssuer,
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}, nil), "", "", "signature"},
		{"forged key with A's kid", signJWT(t, forged, map[string]any{"iss": e.a.url, "sub": main, "aud": testIssuer,
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}, nil), "", "", "signature"},
		{"unsigned", unsignedJWT(map[string]any{"iss": e.a.url, "sub": main, "aud": testIssuer,
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}), "", "", "alg"},
		{"HS256", signHS256(t, jwksOf(t, e.a.key), "ci-1", map[string]any{"iss": e.a.url, "sub": main, "aud": testIssuer,
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}), "", "", "alg"},
		{"our own token", own, "", "", "this server"},
		{"A's token for B's domain", e.a.token(t, now, main, nil), "", "b.example", "no trust for domain"},
		{"B's token for A's domain", e.b.token(t, now, main, func(c map[string]any) { c["aud"] = "https://registry.b.example" }), "", "a.example", "no trust for domain"},
		{"scope beyond the trust", e.a.token(t, now, main, nil), "deploy admin", "", "scope"},
		{"B's scope beyond B's trust", e.b.token(t, now, main, func(c map[string]any) { c["aud"] = "https://registry.b.example" }), "deploy", "", "scope"},
		{"garbage", "garbage", "", "", "malformed"},
	} {
		e.log.Reset()
		_, err := e.exchange(t, tc.token, tc.scope, tc.domain)
		if !errors.Is(err, provider.ErrExchangeRefused) {
			t.Errorf("%s: err = %v, want ErrExchangeRefused", tc.name, err)
			continue
		}
		if provider.Message(err) != provider.Message(provider.ErrExchangeRefused) {
			t.Errorf("%s: message %q tells more than the others", tc.name, provider.Message(err))
		}
		if line := e.log.String(); !strings.Contains(line, "token exchange refused") || !strings.Contains(line, tc.log) {
			t.Errorf("%s: log %q does not name the check (%q)", tc.name, line, tc.log)
		}
	}
}

// TestTokenExchangeRequest: malformed requests are invalid_request, an
// audience other than this server invalid_target.
func TestTokenExchangeRequest(t *testing.T) {
	e := newExchangeEnv(t)
	tok := e.a.token(t, e.clk.Now(), "repo:acme/app:ref:refs/heads/main", nil)
	for _, tc := range []struct {
		name string
		req  provider.ExchangeRequest
		want error
	}{
		{"no subject token", provider.ExchangeRequest{SubjectTokenType: provider.TokenTypeJWT}, provider.ErrInvalidRequest},
		{"access_token type", provider.ExchangeRequest{SubjectToken: tok, SubjectTokenType: provider.TokenTypeAccessToken}, provider.ErrInvalidRequest},
		{"refresh token asked for", provider.ExchangeRequest{SubjectToken: tok, SubjectTokenType: provider.TokenTypeJWT,
			RequestedTokenType: "urn:ietf:params:oauth:token-type:refresh_token"}, provider.ErrInvalidRequest},
		{"actor token", provider.ExchangeRequest{SubjectToken: tok, SubjectTokenType: provider.TokenTypeJWT, ActorToken: tok}, provider.ErrInvalidRequest},
		{"other audience", provider.ExchangeRequest{SubjectToken: tok, SubjectTokenType: provider.TokenTypeJWT,
			Audience: []string{"https://api.example"}}, provider.ErrInvalidTarget},
	} {
		if _, err := e.fed.Exchange(t.Context(), tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestTrustValidation: what federation add accepts.
func TestTrustValidation(t *testing.T) {
	e := newExchangeEnv(t)
	for _, tc := range []struct {
		name string
		spec provider.TrustSpec
		ok   bool
	}{
		{"good", provider.TrustSpec{Domain: "c.example", Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:acme/*"}, true},
		{"our own issuer", provider.TrustSpec{Domain: "c.example", Issuer: testIssuer, Subject: "*"}, false},
		{"plain http issuer", provider.TrustSpec{Domain: "c.example", Issuer: "http://ci.example", Subject: "*"}, false},
		{"issuer with query", provider.TrustSpec{Domain: "c.example", Issuer: "https://ci.example/?a=b", Subject: "*"}, false},
		{"no subject", provider.TrustSpec{Domain: "c.example", Issuer: "https://ci.example"}, false},
		{"control character", provider.TrustSpec{Domain: "c.example", Issuer: "https://ci.example", Subject: "a\nb"}, false},
		{"bad domain", provider.TrustSpec{Domain: "not a domain", Issuer: "https://ci.example", Subject: "*"}, false},
		{"admin scope", provider.TrustSpec{Domain: "c.example", Issuer: "https://ci.example", Subject: "*", Scopes: []string{"registry:admin"}}, false},
		{"bad scope", provider.TrustSpec{Domain: "c.example", Issuer: "https://ci.example", Subject: "*", Scopes: []string{`a"b`}}, false},
	} {
		_, err := e.fed.Add(t.Context(), tc.spec)
		if tc.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
