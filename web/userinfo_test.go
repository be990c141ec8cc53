package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"user-registry/provider"
	"user-registry/storage/memstore"
)

// TestUserinfo: claims per scope, RFC 6750 challenges, header-only tokens
// (SEC-22) and revocation (SEC-12).
func TestUserinfo(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newTokenInfoEnv(t, backend)
			ctx := context.Background()
			if r := call(t, e.Handler, "POST", "/update", `{"phone_num":"+44 20 7946 0000"}`, withToken(e.loginAccess)); r.Status != 202 {
				t.Fatalf("update: %d %s", r.Status, r.Raw)
			}
			u, err := e.DB.UserByID(ctx, e.userID)
			if err != nil {
				t.Fatal(err)
			}
			grant := func(scope string) string {
				p, err := e.Accounts.IssueTokensFor(ctx, u, provider.Grant{ClientID: e.aID, Scope: scope})
				if err != nil {
					t.Fatal(err)
				}
				return p.AccessToken
			}
			revoked := grant("openid email")
			if a := e.post(t, "/oauth2/revoke", url.Values{"token": {revoked}}.Encode(), formCT, basicAuth(e.aID, e.aSecret)); a.status != 200 {
				t.Fatalf("revoke: %d %s", a.status, a.body)
			}
			ghost := e.userToken(t, "ghost@example.com") // a well-signed token of no user (sub u-example.com)
			aTok := e.authorityToken(t, e.aID, e.aSecret)

			const invalid = `Bearer realm="user-registry", error="invalid_token"`
			const scope = `Bearer realm="user-registry", error="insufficient_scope", scope="openid"`
			for _, tc := range []struct {
				name      string
				method    string
				path      string
				edit      func(*http.Request)
				status    int
				want      map[string]any // the whole body on 200; error code otherwise
				challenge string
			}{
				{"login token, GET", "GET", "/userinfo", bearer(e.loginAccess), 200, map[string]any{
					"sub": e.userID, "email": "ann@example.com", "email_verified": true, "phone_number": "+442079460000"}, ""},
				{"login token, POST", "POST", "/userinfo", bearer(e.loginAccess), 200, map[string]any{
					"sub": e.userID, "email": "ann@example.com", "email_verified": true, "phone_number": "+442079460000"}, ""},
				{"openid only", "GET", "/userinfo", bearer(grant("openid")), 200, map[string]any{"sub": e.userID}, ""},
				{"openid email", "GET", "/userinfo", bearer(grant("openid email")), 200, map[string]any{
					"sub": e.userID, "email": "ann@example.com", "email_verified": true}, ""},
				{"openid phone", "GET", "/userinfo", bearer(grant("openid phone")), 200, map[string]any{
					"sub": e.userID, "phone_number": "+442079460000"}, ""},
				{"no openid", "GET", "/userinfo", bearer(grant("email phone")), 403, map[string]any{"error": "insufficient_scope"}, scope},
				{"authority token", "GET", "/userinfo", bearer(aTok), 403, map[string]any{"error": "insufficient_scope"}, scope},
				{"no token", "GET", "/userinfo", nil, 401, map[string]any{"error": "invalid_token"}, `Bearer realm="user-registry"`},
				{"token in the query string", "GET", "/userinfo?access_token=" + e.loginAccess, nil, 401, map[string]any{"error": "invalid_token"}, `Bearer realm="user-registry"`},
				{"token in the form body", "POST", "/userinfo", func(r *http.Request) {
					body := "access_token=" + e.loginAccess
					r.Header.Set("Content-Type", formCT)
					r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
				}, 401, map[string]any{"error": "invalid_token"}, `Bearer realm="user-registry"`},
				{"revoked token", "GET", "/userinfo", bearer(revoked), 401, map[string]any{"error": "invalid_token"}, invalid},
				{"re-encoded revoked token", "GET", "/userinfo", bearer(revoked + "="), 401, map[string]any{"error": "invalid_token"}, invalid},
				{"garbage", "GET", "/userinfo", bearer("garbage"), 401, map[string]any{"error": "invalid_token"}, invalid},
				{"user gone", "GET", "/userinfo", bearer(ghost), 401, map[string]any{"error": "invalid_token"}, invalid},
				{"DELETE not allowed", "DELETE", "/userinfo", bearer(e.loginAccess), 405, nil, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := e.do(t, tc.method, tc.path, "", "", tc.edit)
					if a.status != tc.status {
						t.Fatalf("got %d %s, want %d", a.status, a.body, tc.status)
					}
					if got := a.header.Get("WWW-Authenticate"); got != tc.challenge {
						t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
					}
					if tc.want == nil {
						return
					}
					if tc.status == 200 {
						if len(a.json) != len(tc.want) {
							t.Errorf("body %s, want %v", a.body, tc.want)
						}
						if a.header.Get("Cache-Control") != "no-store" {
							t.Errorf("Cache-Control %q", a.header.Get("Cache-Control"))
						}
					} else if d, _ := a.json["error_description"].(string); d == "" || len(a.json) != 2 {
						t.Errorf("error body %s", a.body)
					}
					for k, v := range tc.want {
						if a.json[k] != v {
							t.Errorf("%s = %v, want %v (%s)", k, a.json[k], v, a.body)
						}
					}
				})
			}
		})
	}
}

// TestUserinfoStoreDown: revocation cannot be checked → 503, never claims
// (SEC-18).
func TestUserinfoStoreDown(t *testing.T) {
	eph := &flakyStore{Store: memstore.New()}
	h := newLocalAPI(t, eph, nil)
	signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	if r := call(t, h, "GET", "/userinfo", "", withToken(access)); r.Status != 200 || r.str("email") != "ann@example.com" {
		t.Fatalf("userinfo: %d %s", r.Status, r.Raw)
	}
	eph.down.Store(true)
	if r := call(t, h, "GET", "/userinfo", "", withToken(access)); r.Status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" {
		t.Fatalf("userinfo with the store down: %d %s", r.Status, r.Raw)
	}
}
