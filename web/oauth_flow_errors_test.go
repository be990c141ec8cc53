package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"user-registry/provider"
)

// TestAuthorizeErrors: a bad client or redirect URI gets the 400 error page
// and no redirect; every other error goes back to the redirect URI with
// error, error_description and the state unchanged (SEC-22, SEC-42).
func TestAuthorizeErrors(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			id, _ := e.codeClient(t, provider.ClientSpec{})
			noRefresh, _ := e.codeClient(t, provider.ClientSpec{GrantTypes: []string{provider.GrantAuthorizationCode}})
			scoped, _ := e.codeClient(t, provider.ClientSpec{Scopes: []string{"openid"}})
			public, _ := e.codeClient(t, provider.ClientSpec{Public: true, RedirectURIs: []string{"http://127.0.0.1/callback"}})
			ccID, _ := e.client(t, provider.ClientSpec{Domain: "cc.example", RedirectURIs: []string{flowRedirect}})
			v, _ := pkce()
			b := e.browser(t)
			odd := "ü &=+/%20?#x"
			for _, tc := range []struct {
				name  string
				edit  func(url.Values)
				page  string // error page text; "" when the answer is a redirect
				error string // error code on the redirect
			}{
				{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, "not registered", ""},
				{"no client", func(q url.Values) { q.Del("client_id") }, "no client_id", ""},
				{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, "redirect URI is not registered", ""},
				{"redirect with other query", func(q url.Values) { q.Set("redirect_uri", "https://app.example/cb?tenant=8") }, "redirect URI is not registered", ""},
				{"no redirect", func(q url.Values) { q.Del("redirect_uri") }, "no redirect_uri", ""},
				{"repeated redirect", func(q url.Values) { q.Add("redirect_uri", flowRedirect) }, "repeats redirect_uri", ""},
				{"loopback for confidential", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:5000/callback") }, "not registered", ""},
				{"public loopback other path", func(q url.Values) {
					q.Set("client_id", public)
					q.Set("redirect_uri", "http://127.0.0.1:5000/other")
				}, "not registered", ""},
				{"public localhost", func(q url.Values) {
					q.Set("client_id", public)
					q.Set("redirect_uri", "http://localhost:5000/callback")
				}, "not registered", ""},
				{"no response_type", func(q url.Values) { q.Del("response_type") }, "", "invalid_request"},
				{"token response_type", func(q url.Values) { q.Set("response_type", "token") }, "", "unsupported_response_type"},
				{"unknown scope", func(q url.Values) { q.Set("scope", "openid admin") }, "", "invalid_scope"},
				{"unregistered scope", func(q url.Values) { q.Set("client_id", scoped); q.Set("scope", "openid email") }, "", "invalid_scope"},
				{"offline_access without refresh grant", func(q url.Values) { q.Set("client_id", noRefresh) }, "", "invalid_scope"},
				{"PKCE plain", func(q url.Values) {
					q.Set("code_challenge_method", "plain")
					q.Set("code_challenge", strings.Repeat("a", 43))
				}, "", "invalid_request"},
				{"PKCE without method", func(q url.Values) { q.Del("code_challenge_method") }, "", "invalid_request"},
				{"PKCE short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, "", "invalid_request"},
				{"public without PKCE", func(q url.Values) {
					q.Set("client_id", public)
					q.Set("redirect_uri", "http://127.0.0.1:5000/callback")
					q.Del("code_challenge")
					q.Del("code_challenge_method")
				}, "", "invalid_request"},
				{"client without the code grant", func(q url.Values) { q.Set("client_id", ccID) }, "", "unauthorized_client"},
				{"repeated scope", func(q url.Values) { q.Add("scope", "openid") }, "", "invalid_request"},
				{"response_mode fragment", func(q url.Values) { q.Set("response_mode", "fragment") }, "", "invalid_request"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					q := authParams(id, flowRedirect, v)
					q.Set("state", odd)
					tc.edit(q)
					p := b.get(authorizePath(q))
					if tc.page != "" {
						pageWantStatus(t, tc.name, p, http.StatusBadRequest)
						pageWantBody(t, tc.name, p, tc.page)
						if p.location() != "" {
							t.Fatalf("redirected to %q", p.location())
						}
						return
					}
					rq := redirectQuery(t, p, q.Get("redirect_uri"))
					if rq.Get("error") != tc.error || rq.Get("error_description") == "" || rq.Get("state") != odd || rq.Get("code") != "" {
						t.Fatalf("redirect query %v, want error %s and state %q", rq, tc.error, odd)
					}
				})
			}
			// A malformed query is an error page too.
			p := b.get("/oauth2/authorize?client_id=%zz")
			pageWantStatus(t, "malformed query", p, http.StatusBadRequest)
		})
	}
}

// TestPublicClientLoopback: a public client's loopback redirect matches on
// any port (RFC 8252 §7.3) and redeems its code with client_id and PKCE
// alone; the code is bound to that exact URI.
func TestPublicClientLoopback(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			for _, reg := range []string{"http://127.0.0.1/callback", "http://[::1]/callback"} {
				id, _ := e.codeClient(t, provider.ClientSpec{Public: true, RedirectURIs: []string{reg}, Trusted: true})
				u, _ := url.Parse(reg)
				u.Host = u.Host + ":49152"
				redirect := u.String()
				v, _ := pkce()
				b := e.browser(t)
				code := b.getCode(authParams(id, redirect, v))
				other := strings.Replace(redirect, "49152", "49153", 1)
				a := e.exchange(t, id, "", url.Values{"code": {code}, "redirect_uri": {other}, "code_verifier": {v}})
				flowWantError(t, "other port at the token endpoint", a, 400, "invalid_grant")

				code = b.getCode(authParams(id, redirect, v))
				a = e.exchange(t, id, "", url.Values{"code": {code}, "redirect_uri": {redirect}, "code_verifier": {v}})
				if a.status != 200 || a.json["id_token"] == nil || a.json["refresh_token"] == nil || a.json["token_type"] != "Bearer" {
					t.Fatalf("public exchange = %d %s", a.status, a.body)
				}
				// Public clients refresh with client_id alone.
				r := e.post(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {id},
					"refresh_token": {a.json["refresh_token"].(string)}}.Encode(), "application/x-www-form-urlencoded", nil)
				if r.status != 200 || r.json["refresh_token"] == nil {
					t.Fatalf("public refresh = %d %s", r.status, r.body)
				}
				// A secret is refused for a public client.
				r = e.post(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"},
					"refresh_token": {r.json["refresh_token"].(string)}}.Encode(), "application/x-www-form-urlencoded",
					func(r *http.Request) { r.SetBasicAuth(id, "secret") })
				flowWantError(t, "public client with a secret", r, 401, "invalid_client")
			}
		})
	}
}
