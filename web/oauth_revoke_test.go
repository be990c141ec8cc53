package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"user-registry/provider"
)

// tokenInfoEnv is a server with clients and a user holding tokens of three
// origins: /login, a session of confidential client a, and one of public
// client p (as the code flow issues them).
type tokenInfoEnv struct {
	oauthEnv
	aID, aSecret string // confidential, example.com
	bID, bSecret string // confidential, other.example
	pID          string // public
	userID       string
	loginAccess  string
	loginRefresh string
	appA, appP   provider.TokenPair
}

func newTokenInfoEnv(t *testing.T, backend string) tokenInfoEnv {
	t.Helper()
	ctx := context.Background()
	e := tokenInfoEnv{oauthEnv: newOAuthEnv(t, backend, "0")}
	e.aID, e.aSecret = e.client(t, provider.ClientSpec{Domain: "example.com", Name: "a", Scopes: []string{"read"}})
	e.bID, e.bSecret = e.client(t, provider.ClientSpec{Domain: "other.example", Name: "b"})
	e.pID, _ = e.client(t, provider.ClientSpec{Domain: "example.com", Name: "p", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
	e.userID = signup(t, e.Handler, "ann@example.com")
	e.loginAccess, e.loginRefresh = login(t, e.Handler, "ann@example.com", testPassword)
	u, err := e.DB.UserByID(ctx, e.userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		dst    *provider.TokenPair
		client string
	}{{&e.appA, e.aID}, {&e.appP, e.pID}} {
		*s.dst, err = e.Accounts.IssueTokensFor(ctx, u, provider.Grant{ClientID: s.client, Scope: "openid email", WithRefresh: true})
		if err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func basicAuth(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(id, secret) }
}

// introspect asks as confidential client a.
func (e tokenInfoEnv) introspect(t *testing.T, tok string) answer {
	t.Helper()
	return e.post(t, "/oauth2/introspect", url.Values{"token": {tok}}.Encode(), formCT, basicAuth(e.aID, e.aSecret))
}

// wantActive asserts introspection reports tok active (or not, exactly
// {"active":false}).
func (e tokenInfoEnv) wantActive(t *testing.T, tok string, active bool) {
	t.Helper()
	a := e.introspect(t, tok)
	if active {
		if a.status != 200 || a.json["active"] != true {
			t.Fatalf("introspect: %d %s, want active", a.status, a.body)
		}
		return
	}
	wantInactive(t, a)
}

func wantInactive(t *testing.T, a answer) {
	t.Helper()
	if a.status != 200 || string(a.body) != "{\"active\":false}\n" || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("introspect: %d %q (Cache-Control %q), want exactly {\"active\":false}", a.status, a.body, a.header.Get("Cache-Control"))
	}
}

// meStatus is the status of GET /me with tok.
func (e tokenInfoEnv) meStatus(t *testing.T, tok string) int {
	t.Helper()
	return e.do(t, http.MethodGet, "/me", "", "", bearer(tok)).status
}

// wantOAuthError asserts an RFC 6749 error answer.
func wantOAuthError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.json["error"] != code || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("got %d %s (Cache-Control %q), want %d error %q", a.status, a.body, a.header.Get("Cache-Control"), status, code)
	}
	if status == http.StatusUnauthorized && a.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
}

// TestRevoke drives /oauth2/revoke through one scenario per backend; each
// step depends on the ones before (SEC-7, SEC-14, SEC-22).
func TestRevoke(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newTokenInfoEnv(t, backend)
			ctx := context.Background()
			aTok := e.authorityToken(t, e.aID, e.aSecret)
			bTok := e.authorityToken(t, e.bID, e.bSecret)
			asA, asB := basicAuth(e.aID, e.aSecret), basicAuth(e.bID, e.bSecret)
			for _, step := range []struct {
				name   string
				path   string // "" = /oauth2/revoke
				ct     string // "" = form
				form   url.Values
				auth   func(*http.Request)
				status int
				code   string // OAuth error code when status != 200
				check  func(t *testing.T)
			}{
				{name: "another client's access token is not revoked", form: url.Values{"token": {aTok}}, auth: asB, status: 200,
					check: func(t *testing.T) { e.wantActive(t, aTok, true) }},
				{name: "own access token", form: url.Values{"token": {aTok}, "token_type_hint": {"access_token"}}, auth: asA, status: 200,
					check: func(t *testing.T) {
						if _, err := e.Tokens.VerifyAccess(ctx, aTok, ""); err == nil {
							t.Fatal("revoked token still verifies")
						}
						if s := e.meStatus(t, aTok); s != 401 {
							t.Fatalf("/me with revoked token = %d", s)
						}
						e.wantActive(t, aTok, false)
					}},
				{name: "re-encoded revoked token stays revoked", form: url.Values{"token": {aTok + "="}}, auth: asA, status: 200,
					check: func(t *testing.T) {
						e.wantActive(t, aTok+"=", false)
						if s := e.meStatus(t, aTok+"="); s != 401 {
							t.Fatalf("/me with re-encoded revoked token = %d", s)
						}
					}},
				{name: "already revoked", form: url.Values{"token": {aTok}}, auth: asA, status: 200},
				{name: "unknown token", form: url.Values{"token": {"no-such-token"}}, auth: asA, status: 200},
				{name: "wrong hint is ignored", form: url.Values{"token": {"x"}, "token_type_hint": {"bogus"}}, auth: asA, status: 200},
				{name: "bad secret", form: url.Values{"token": {bTok}}, auth: basicAuth(e.aID, "wrong"), status: 401, code: "invalid_client"},
				{name: "secret in the body, wrong", form: url.Values{"token": {bTok}, "client_id": {e.bID}, "client_secret": {"wrong"}}, status: 401, code: "invalid_client"},
				{name: "no client", form: url.Values{"token": {bTok}}, status: 401, code: "invalid_client"},
				{name: "confidential client without its secret", form: url.Values{"token": {bTok}, "client_id": {e.bID}}, status: 401, code: "invalid_client"},
				{name: "public client presenting a secret", form: url.Values{"token": {bTok}}, auth: basicAuth(e.pID, "guess"), status: 401, code: "invalid_client",
					check: func(t *testing.T) { e.wantActive(t, bTok, true) }},
				{name: "token in the query string is ignored", path: "/oauth2/revoke?token=" + url.QueryEscape(bTok), form: url.Values{}, auth: asB,
					status: 400, code: "invalid_request", check: func(t *testing.T) { e.wantActive(t, bTok, true) }},
				{name: "JSON body refused", ct: "application/json", auth: asB, status: 400, code: "invalid_request"},
				{name: "repeated token", form: url.Values{"token": {bTok, bTok}}, auth: asB, status: 400, code: "invalid_request",
					check: func(t *testing.T) { e.wantActive(t, bTok, true) }},
				{name: "secret in the body", form: url.Values{"token": {bTok}, "client_id": {e.bID}, "client_secret": {e.bSecret}}, status: 200,
					check: func(t *testing.T) { e.wantActive(t, bTok, false) }},
				{name: "another client's refresh token is not revoked", form: url.Values{"token": {e.appA.RefreshToken}}, auth: asB, status: 200,
					check: func(t *testing.T) {
						e.wantActive(t, e.appA.RefreshToken, true)
						e.wantActive(t, e.appA.AccessToken, true)
					}},
				{name: "own refresh token ends its session", form: url.Values{"token": {e.appA.RefreshToken}, "token_type_hint": {"refresh_token"}}, auth: asA, status: 200,
					check: func(t *testing.T) {
						e.wantActive(t, e.appA.RefreshToken, false)
						e.wantActive(t, e.appA.AccessToken, false)
						if _, err := e.Accounts.RefreshFor(ctx, e.appA.RefreshToken, e.aID, nil, ""); err == nil {
							t.Fatal("revoked refresh token still refreshes")
						}
						// The user's other sessions live on.
						e.wantActive(t, e.loginAccess, true)
						e.wantActive(t, e.appP.AccessToken, true)
					}},
				{name: "a client cannot revoke /login tokens", form: url.Values{"token": {e.loginAccess}}, auth: asA, status: 200,
					check: func(t *testing.T) {
						if s := e.meStatus(t, e.loginAccess); s != 200 {
							t.Fatalf("/me after another client's revocation = %d", s)
						}
					}},
				{name: "public client by client_id alone", form: url.Values{"token": {e.appP.AccessToken}, "client_id": {e.pID}}, status: 200,
					check: func(t *testing.T) {
						e.wantActive(t, e.appP.AccessToken, false)
						e.wantActive(t, e.appP.RefreshToken, true) // RFC 7009 §2.1: revoking an access token may leave the grant
					}},
				{name: "public client, refresh token, Basic with empty secret", form: url.Values{"token": {e.appP.RefreshToken}}, auth: basicAuth(e.pID, ""), status: 200,
					check: func(t *testing.T) { e.wantActive(t, e.appP.RefreshToken, false) }},
				{name: "missing token", form: url.Values{}, auth: asA, status: 400, code: "invalid_request"},
			} {
				t.Run(step.name, func(t *testing.T) {
					path, ct, body := step.path, step.ct, step.form.Encode()
					if path == "" {
						path = "/oauth2/revoke"
					}
					if ct == "" {
						ct = formCT
					} else {
						body = `{"token":"x"}`
					}
					a := e.post(t, path, body, ct, step.auth)
					if step.status == 200 {
						if a.status != 200 || len(a.body) != 0 || a.header.Get("Cache-Control") != "no-store" {
							t.Fatalf("got %d %q (Cache-Control %q), want 200 with an empty body", a.status, a.body, a.header.Get("Cache-Control"))
						}
					} else {
						wantOAuthError(t, a, step.status, step.code)
					}
					if step.check != nil {
						step.check(t)
					}
				})
			}
			if a := e.do(t, http.MethodGet, "/oauth2/revoke", "", "", asA); a.status != http.StatusMethodNotAllowed {
				t.Fatalf("GET /oauth2/revoke = %d", a.status)
			}
		})
	}
}
