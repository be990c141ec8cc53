package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"user-registry/provider"
	"user-registry/storage"
)

// TestClientCredentialsLibrary: golang.org/x/oauth2's clientcredentials,
// unmodified, against both endpoints and both auth styles; the token
// verifies against the served JWKS with jwx.
func TestClientCredentialsLibrary(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "0")
			id, secret := e.client(t, provider.ClientSpec{Domain: "Example.COM", Scopes: []string{"read", "write"}, Audiences: []string{"https://api.example.com"}})
			set, err := jwk.Fetch(context.Background(), e.Server.URL+"/.well-known/jwks.json")
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/oauth2/token", "/authority-token"} {
				for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
					for _, tc := range []struct {
						scopes   []string
						params   url.Values
						wantAud  string
						wantScop string
					}{
						{nil, nil, e.Config.Issuer, "read write"},
						{[]string{"read"}, url.Values{"audience": {"https://api.example.com"}}, "https://api.example.com", "read"},
						{nil, url.Values{"resource": {"https://api.example.com"}, "domain": {"EXAMPLE.com"}}, "https://api.example.com", "read write"},
					} {
						cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.Server.URL + path,
							AuthStyle: style, Scopes: tc.scopes, EndpointParams: tc.params}
						tok, err := cfg.Token(context.Background())
						if err != nil {
							t.Fatalf("%s style %d %+v: %v", path, style, tc, err)
						}
						if tok.TokenType != "Bearer" || tok.Extra("domain") != "example.com" || tok.Extra("scope") != tc.wantScop {
							t.Fatalf("%s: response %+v domain=%v scope=%v", path, tok, tok.Extra("domain"), tok.Extra("scope"))
						}
						if ei, _ := tok.Extra("expires_in").(float64); ei != 600 {
							t.Fatalf("expires_in = %v", tok.Extra("expires_in"))
						}
						parsed, err := jwt.Parse([]byte(tok.AccessToken), jwt.WithKeySet(set), jwt.WithIssuer(e.Config.Issuer), jwt.WithAudience(tc.wantAud))
						if err != nil {
							t.Fatalf("verify: %v", err)
						}
						msg, _ := jws.Parse([]byte(tok.AccessToken))
						if typ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != "at+jwt" {
							t.Fatalf("typ = %q", typ)
						}
						if kid := msg.Signatures()[0].ProtectedHeaders().KeyID(); kid == "" {
							t.Fatal("no kid")
						}
						domain, _ := parsed.Get("domain")
						cid, _ := parsed.Get("client_id")
						scope, _ := parsed.Get("scope")
						if parsed.Subject() != id || cid != id || domain != "example.com" || scope != tc.wantScop || parsed.JwtID() == "" ||
							parsed.IssuedAt().IsZero() || parsed.NotBefore().IsZero() || parsed.Expiration().Sub(parsed.IssuedAt()).Seconds() != 600 {
							t.Fatalf("claims: %v", parsed)
						}
						if _, err := e.Tokens.VerifyAccess(context.Background(), tok.AccessToken, ""); err != nil {
							t.Fatalf("VerifyAccess: %v", err)
						}
					}
				}
			}
		})
	}
}

const formCT = "application/x-www-form-urlencoded"

// TestTokenEndpointErrors: every refusal is RFC 6749 §5.2 JSON with
// Cache-Control no-store; only invalid_client is 401 (with
// WWW-Authenticate), and a wrong secret says nothing about the domain.
func TestTokenEndpointErrors(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "0")
			id, secret := e.client(t, provider.ClientSpec{Domain: "example.com", Scopes: []string{"read"}})
			blockedID, blockedSecret := e.client(t, provider.ClientSpec{Domain: "mail.evil.com"})
			pubID, _ := e.client(t, provider.ClientSpec{Domain: "example.com", Public: true, RedirectURIs: []string{"https://app.example.com/cb"}})
			codeID, codeSecret := e.client(t, provider.ClientSpec{Domain: "example.com", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://app.example.com/cb"}})
			adminID, adminSecret := e.client(t, provider.ClientSpec{Domain: "example.com", Admin: true})
			if err := e.DB.PutDomain(context.Background(), storage.DomainRecord{Domain: "evil.com", BelongsTo: storage.DomainBlocked}); err != nil {
				t.Fatal(err)
			}
			basic := func(id, secret string) func(*http.Request) {
				return func(r *http.Request) { r.SetBasicAuth(id, secret) }
			}
			cc := "grant_type=client_credentials"
			for _, tc := range []struct {
				name, path, body, ct string
				edit                 func(*http.Request)
				status               int
				code                 string
			}{
				{"ok basic", "/oauth2/token", cc, formCT, basic(id, secret), 200, ""},
				{"ok post", "/oauth2/token", cc + "&client_id=" + id + "&client_secret=" + secret, formCT, nil, 200, ""},
				{"ok json", "/authority-token", `{"client_id":"` + id + `","client_secret":"` + secret + `"}`, "application/json", nil, 200, ""},
				{"ok json basic", "/authority-token", `{"scope":"read"}`, "application/json", basic(id, secret), 200, ""},
				{"admin scope always", "/oauth2/token", cc, formCT, basic(adminID, adminSecret), 200, ""},
				{"wrong secret", "/oauth2/token", cc, formCT, basic(id, secret+"x"), 401, "invalid_client"},
				{"unknown client", "/oauth2/token", cc, formCT, basic("nobody", secret), 401, "invalid_client"},
				{"no credentials", "/oauth2/token", cc, formCT, nil, 401, "invalid_client"},
				{"public client with secret", "/oauth2/token", cc, formCT, basic(pubID, "anything"), 401, "invalid_client"},
				{"public client without secret", "/oauth2/token", cc + "&client_id=" + pubID, formCT, nil, 401, "invalid_client"},
				{"blocked domain", "/oauth2/token", cc, formCT, basic(blockedID, blockedSecret), 400, "unauthorized_client"},
				{"blocked domain wrong secret", "/oauth2/token", cc, formCT, basic(blockedID, "x"), 401, "invalid_client"},
				{"grant not registered", "/oauth2/token", cc, formCT, basic(codeID, codeSecret), 400, "unauthorized_client"},
				{"another domain", "/oauth2/token", cc + "&domain=other.org", formCT, basic(id, secret), 400, "unauthorized_client"},
				{"another domain json", "/authority-token", `{"domain":"other.org"}`, "application/json", basic(id, secret), 400, "unauthorized_client"},
				{"unregistered scope", "/oauth2/token", cc + "&scope=read+admin", formCT, basic(id, secret), 400, "invalid_scope"},
				{"admin scope by non-admin", "/oauth2/token", cc + "&scope=registry:admin", formCT, basic(id, secret), 400, "invalid_scope"},
				{"unregistered audience", "/oauth2/token", cc + "&audience=https://x.example", formCT, basic(id, secret), 400, "invalid_target"},
				{"password grant", "/oauth2/token", "grant_type=password&username=a&password=b", formCT, basic(id, secret), 400, "unsupported_grant_type"},
				{"implicit grant", "/oauth2/token", "grant_type=implicit", formCT, basic(id, secret), 400, "unsupported_grant_type"},
				{"code grant without redirect_uri", "/oauth2/token", "grant_type=authorization_code&code=x", formCT, basic(codeID, codeSecret), 400, "invalid_request"},
				{"password on authority-token", "/authority-token", "grant_type=password", formCT, basic(id, secret), 400, "unsupported_grant_type"},
				{"missing grant_type", "/oauth2/token", "", formCT, basic(id, secret), 400, "invalid_request"},
				{"repeated parameter", "/oauth2/token", cc + "&scope=read&scope=read", formCT, basic(id, secret), 400, "invalid_request"},
				{"basic and post", "/oauth2/token", cc + "&client_secret=" + secret, formCT, basic(id, secret), 400, "invalid_request"},
				{"json on oauth2/token", "/oauth2/token", `{"grant_type":"client_credentials"}`, "application/json", basic(id, secret), 400, "invalid_request"},
				{"json unknown field", "/authority-token", `{"client_id":"a","role":"admin"}`, "application/json", nil, 400, "invalid_request"},
				{"json malformed", "/authority-token", `{"client_id":`, "application/json", nil, 400, "invalid_request"},
				{"json duplicate key", "/authority-token", `{"scope":"read","scope":"admin"}`, "application/json", basic(id, secret), 400, "invalid_request"},
				{"json duplicate credentials", "/authority-token", `{"client_id":"` + id + `","client_secret":"x","client_secret":"` + secret + `"}`, "application/json", nil, 400, "invalid_request"},
				{"json key in other case", "/authority-token", `{"Domain":"other.org"}`, "application/json", basic(id, secret), 400, "invalid_request"},
				{"json charset parameter", "/authority-token", `{"scope":"read"}`, "application/json; charset=utf-8", basic(id, secret), 200, ""},
				{"credentials in query ignored", "/oauth2/token?client_id=" + id + "&client_secret=" + secret, cc, formCT, nil, 401, "invalid_client"},
				{"grant_type in query ignored", "/oauth2/token?grant_type=client_credentials", "", formCT, basic(id, secret), 400, "invalid_request"},
				{"malformed basic", "/oauth2/token", cc, formCT, func(r *http.Request) { r.Header.Set("Authorization", "Basic %%%") }, 401, "invalid_client"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := e.post(t, tc.path, tc.body, tc.ct, tc.edit)
					if a.status != tc.status {
						t.Fatalf("status = %d, want %d: %s", a.status, tc.status, a.body)
					}
					if cc := a.header.Get("Cache-Control"); cc != "no-store" || a.header.Get("Pragma") != "no-cache" {
						t.Fatalf("Cache-Control = %q", cc)
					}
					if tc.status == 200 {
						if a.json["token_type"] != "Bearer" || a.json["domain"] == "" || a.json["access_token"] == "" {
							t.Fatalf("body = %s", a.body)
						}
						if tc.name == "admin scope always" && a.json["scope"] != "registry:admin" {
							t.Fatalf("admin scope = %v", a.json["scope"])
						}
						return
					}
					if a.json["error"] != tc.code || a.json["error_description"] == "" {
						t.Fatalf("body = %s, want error %s", a.body, tc.code)
					}
					if tc.status == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic") {
						t.Fatalf("WWW-Authenticate = %q", a.header.Get("WWW-Authenticate"))
					}
					if strings.Contains(strings.ToLower(string(a.body)), "domain") && tc.code == "invalid_client" {
						t.Fatalf("invalid_client mentions the domain: %s", a.body)
					}
				})
			}
		})
	}
}

// TestOAuthWrongMethod: a wrong method on an OAuth endpoint is 405 with
// the RFC 6749 error body SPEC §2 prescribes for /oauth2/* and
// /authority-token, not the {"message"} body of the user API.
func TestOAuthWrongMethod(t *testing.T) {
	e := newOAuthEnv(t, "sqlite+memory", "0")
	for _, tc := range []struct{ method, path, allow string }{
		{"GET", "/oauth2/token", "POST"}, {"PUT", "/authority-token", "POST"},
		{"GET", "/oauth2/revoke", "POST"}, {"GET", "/oauth2/introspect", "POST"},
		{"DELETE", "/oauth2/authorize", "GET, HEAD"}, {"GET", "/oauth2/consent", "POST"},
	} {
		a := e.do(t, tc.method, tc.path, "", "", nil)
		if a.status != http.StatusMethodNotAllowed || a.json["error"] != "invalid_request" || a.json["message"] != nil ||
			a.header.Get("Cache-Control") != "no-store" || a.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d %s (Allow %q)", tc.method, tc.path, a.status, a.body, a.header.Get("Allow"))
		}
	}
}
