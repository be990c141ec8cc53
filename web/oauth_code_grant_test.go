package web

import (
	"net/http"
	"net/url"
	"testing"

	"user-registry/provider"
)

// TestCodeGrantErrors: codes are single-use (a second use revokes what the
// first issued), bound to client, redirect URI and PKCE verifier (SEC-42);
// client authentication and grant registration are enforced.
func TestCodeGrantErrors(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			id, secret := e.codeClient(t, provider.ClientSpec{Trusted: true})
			otherID, otherSecret := e.codeClient(t, provider.ClientSpec{Trusted: true})
			noPKCE, noPKCESecret := e.codeClient(t, provider.ClientSpec{Trusted: true})
			v, _ := pkce()
			b := e.browser(t)

			t.Run("reuse revokes", func(t *testing.T) {
				code := b.getCode(authParams(id, flowRedirect, v))
				form := url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}}
				first := e.exchange(t, id, secret, form)
				if first.status != 200 {
					t.Fatalf("first exchange = %d %s", first.status, first.body)
				}
				access := first.json["access_token"].(string)
				if !e.accessValid(access) {
					t.Fatal("fresh access token does not verify")
				}
				flowWantError(t, "second exchange", e.exchange(t, id, secret, form), 400, "invalid_grant")
				if e.accessValid(access) {
					t.Error("access token of a reused code still verifies")
				}
				r := e.post(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"},
					"refresh_token": {first.json["refresh_token"].(string)}}.Encode(), "application/x-www-form-urlencoded",
					func(r *http.Request) { r.SetBasicAuth(id, secret) })
				flowWantError(t, "refresh of a reused code", r, 400, "invalid_grant")
			})

			for _, tc := range []struct {
				name           string
				client, secret string
				form           func(code string) url.Values
				status         int
				error          string
			}{
				{"wrong verifier", id, secret, func(c string) url.Values {
					return url.Values{"code": {c}, "redirect_uri": {flowRedirect}, "code_verifier": {v + "x"}}
				}, 400, "invalid_grant"},
				{"no verifier", id, secret, func(c string) url.Values {
					return url.Values{"code": {c}, "redirect_uri": {flowRedirect}}
				}, 400, "invalid_grant"},
				{"wrong redirect_uri", id, secret, func(c string) url.Values {
					return url.Values{"code": {c}, "redirect_uri": {"https://app.example/cb"}, "code_verifier": {v}}
				}, 400, "invalid_grant"},
				{"no redirect_uri", id, secret, func(c string) url.Values {
					return url.Values{"code": {c}, "code_verifier": {v}}
				}, 400, "invalid_request"},
				{"another client", otherID, otherSecret, func(c string) url.Values {
					return url.Values{"code": {c}, "redirect_uri": {flowRedirect}, "code_verifier": {v}}
				}, 400, "invalid_grant"},
				{"unknown code", id, secret, func(string) url.Values {
					return url.Values{"code": {"made-up"}, "redirect_uri": {flowRedirect}, "code_verifier": {v}}
				}, 400, "invalid_grant"},
				{"wrong secret", id, "wrong", func(c string) url.Values {
					return url.Values{"code": {c}, "redirect_uri": {flowRedirect}, "code_verifier": {v}}
				}, 401, "invalid_client"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					code := b.getCode(authParams(id, flowRedirect, v))
					flowWantError(t, tc.name, e.exchange(t, tc.client, tc.secret, tc.form(code)), tc.status, tc.error)
				})
			}

			t.Run("confidential client without secret", func(t *testing.T) {
				code := b.getCode(authParams(id, flowRedirect, v))
				a := e.exchange(t, id, "", url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}})
				flowWantError(t, "auth method none for a confidential client", a, 401, "invalid_client")
				if a.header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate")
				}
			})

			t.Run("verifier without challenge", func(t *testing.T) {
				q := authParams(noPKCE, flowRedirect, v)
				q.Del("code_challenge")
				q.Del("code_challenge_method")
				code := b.getCode(q)
				a := e.exchange(t, noPKCE, noPKCESecret, url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}})
				flowWantError(t, "PKCE downgrade", a, 400, "invalid_grant")
				// Confidential clients may skip PKCE altogether.
				code = b.getCode(q)
				a = e.exchange(t, noPKCE, noPKCESecret, url.Values{"code": {code}, "redirect_uri": {flowRedirect}})
				if a.status != 200 {
					t.Fatalf("confidential exchange without PKCE = %d %s", a.status, a.body)
				}
			})

			t.Run("refresh grant not registered", func(t *testing.T) {
				only, onlySecret := e.codeClient(t, provider.ClientSpec{Trusted: true, GrantTypes: []string{provider.GrantAuthorizationCode}})
				q := authParams(only, flowRedirect, v)
				q.Set("scope", "openid")
				code := b.getCode(q)
				a := e.exchange(t, only, onlySecret, url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}})
				if a.status != 200 || a.json["refresh_token"] != nil || a.json["scope"] != "openid" {
					t.Fatalf("exchange = %d %s", a.status, a.body)
				}
				r := e.post(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}}.Encode(),
					"application/x-www-form-urlencoded", func(r *http.Request) { r.SetBasicAuth(only, onlySecret) })
				flowWantError(t, "refresh without the grant", r, 400, "unauthorized_client")
			})

			t.Run("refresh token of another client", func(t *testing.T) {
				code := b.getCode(authParams(id, flowRedirect, v))
				a := e.exchange(t, id, secret, url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}})
				rt := a.json["refresh_token"].(string)
				refresh := func(cid, csec, scope string) answer {
					f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
					if scope != "" {
						f.Set("scope", scope)
					}
					return e.post(t, "/oauth2/token", f.Encode(), "application/x-www-form-urlencoded",
						func(r *http.Request) { r.SetBasicAuth(cid, csec) })
				}
				flowWantError(t, "foreign refresh", refresh(otherID, otherSecret, ""), 400, "invalid_grant")
				flowWantError(t, "wider scope", refresh(id, secret, "openid phone"), 400, "invalid_scope")
				if r := refresh(id, secret, "openid"); r.status != 200 {
					t.Fatalf("own refresh after a foreign attempt = %d %s", r.status, r.body)
				}
			})
		})
	}
}
