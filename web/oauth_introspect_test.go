package web

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"

	"user-registry/provider"
	"user-registry/storage/memstore"
)

// TestIntrospect: active tokens are described with the RFC 7662 fields,
// anything else is exactly {"active":false} (SEC-15), and only confidential
// clients may ask.
func TestIntrospect(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newTokenInfoEnv(t, backend)
			aTok := e.authorityToken(t, e.aID, e.aSecret)
			// A rotation leaves the first refresh token dead.
			r := call(t, e.Handler, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": e.loginRefresh}))
			rotatedAccess, rotatedRefresh := wantTokens(t, r)
			// A token revoked by logout.
			logoutAccess, _ := login(t, e.Handler, "ann@example.com", testPassword)
			if a := e.post(t, "/logout", "", "", bearer(logoutAccess)); a.status != 200 {
				t.Fatalf("logout: %d %s", a.status, a.body)
			}
			userFields := []string{"active", "aud", "client_id", "domain", "exp", "iat", "iss", "jti", "scope", "sub", "token_type", "username"}
			for _, tc := range []struct {
				name   string
				token  string
				fields []string          // nil: inactive
				want   map[string]string // string fields
			}{
				{"user access token", rotatedAccess, userFields, map[string]string{
					"sub": e.userID, "client_id": "user-registry", "scope": "openid email phone", "token_type": "Bearer",
					"domain": "example.com", "username": "ann@example.com", "iss": e.Config.Issuer}},
				{"authority token", aTok, []string{"active", "aud", "client_id", "domain", "exp", "iat", "iss", "jti", "scope", "sub", "token_type"},
					map[string]string{"sub": e.aID, "client_id": e.aID, "scope": "read", "domain": "example.com", "token_type": "Bearer"}},
				{"refresh token", rotatedRefresh, []string{"active", "client_id", "domain", "exp", "iat", "iss", "scope", "sub", "token_type", "username"},
					map[string]string{"sub": e.userID, "client_id": "user-registry", "scope": "openid email phone",
						"token_type": "refresh_token", "domain": "example.com", "username": "ann@example.com"}},
				{"refresh token after rotation", e.loginRefresh, nil, nil},
				{"access token revoked by logout", logoutAccess, nil, nil},
				{"re-encoded token", rotatedAccess + "=", nil, nil},
				{"garbage", "garbage", nil, nil},
				{"forged signature", rotatedAccess[:len(rotatedAccess)-4] + "AAAA", nil, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := e.introspect(t, tc.token)
					if tc.fields == nil {
						wantInactive(t, a)
						return
					}
					if a.status != 200 || a.json["active"] != true || a.header.Get("Cache-Control") != "no-store" {
						t.Fatalf("got %d %s", a.status, a.body)
					}
					var keys []string
					for k := range a.json {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					if !slices.Equal(keys, tc.fields) {
						t.Errorf("fields %v, want %v", keys, tc.fields)
					}
					for k, v := range tc.want {
						if a.json[k] != v {
							t.Errorf("%s = %v, want %q", k, a.json[k], v)
						}
					}
					exp, _ := a.json["exp"].(float64)
					iat, _ := a.json["iat"].(float64)
					if iat <= 0 || exp <= iat {
						t.Errorf("iat %v exp %v", iat, exp)
					}
				})
			}

			// Client authentication: confidential clients only.
			form := url.Values{"token": {rotatedAccess}}
			for _, tc := range []struct {
				name   string
				body   url.Values
				path   string
				edit   func(*http.Request)
				status int
				code   string
			}{
				{"public client", form, "/oauth2/introspect", nil, 401, "invalid_client"},
				{"wrong secret", form, "/oauth2/introspect", basicAuth(e.bID, "wrong"), 401, "invalid_client"},
				{"no client", form, "/oauth2/introspect", nil, 401, "invalid_client"},
				{"bearer token instead of client credentials", form, "/oauth2/introspect", bearer(rotatedAccess), 401, "invalid_client"},
				{"another confidential client may ask", form, "/oauth2/introspect", basicAuth(e.bID, e.bSecret), 200, ""},
				{"token in the query string is ignored", url.Values{}, "/oauth2/introspect?token=" + rotatedAccess, basicAuth(e.bID, e.bSecret), 400, "invalid_request"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					body := tc.body
					if tc.name == "public client" {
						body = url.Values{"token": {rotatedAccess}, "client_id": {e.pID}}
					}
					a := e.post(t, tc.path, body.Encode(), formCT, tc.edit)
					if tc.status == 200 {
						if a.status != 200 || a.json["active"] != true {
							t.Fatalf("got %d %s", a.status, a.body)
						}
						return
					}
					wantOAuthError(t, a, tc.status, tc.code)
				})
			}
		})
	}
}

// TestTokenInfoStoreDown: with the revocation store unreachable,
// introspection and revocation answer 503 — never active, never a success
// that did not revoke (SEC-18).
func TestTokenInfoStoreDown(t *testing.T) {
	eph := &flakyStore{Store: memstore.New()}
	var clients *provider.Clients
	h := newLocalAPI(t, eph, nil, withClients("0"), func(c *Config, _ *provider.AccountsConfig) { clients = c.Clients })
	env := oauthEnv{testEnv: &testEnv{Handler: h}, clients: clients}
	id, secret := env.client(t, provider.ClientSpec{Domain: "example.com"})
	signup(t, h, "ann@example.com")
	access, refresh := login(t, h, "ann@example.com", testPassword)
	eph.down.Store(true)
	for _, tc := range []struct{ path, token string }{
		{"/oauth2/introspect", access},
		{"/oauth2/introspect", refresh},
		{"/oauth2/revoke", access},
		{"/oauth2/revoke", refresh},
	} {
		r := call(t, h, "POST", tc.path, url.Values{"token": {tc.token}}.Encode(), withCT(formCT),
			func(r *http.Request) { r.SetBasicAuth(id, secret) })
		if r.Status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" {
			t.Fatalf("%s with the store down: %d %s", tc.path, r.Status, r.Raw)
		}
	}
}

// TestIntrospectByUserClient: a client a user registered through /clients
// introspects only tokens issued to it; any other token, valid or not, is
// exactly {"active":false}. A confidential client made by the CLI still
// introspects every token (SPEC §7, SECURITY 74).
func TestIntrospectByUserClient(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newTokenInfoEnv(t, backend)
			register := func(tok string) (string, string) {
				a := e.post(t, "/clients", `{"name":"mine"}`, "application/json", bearer(tok))
				if a.status != 201 {
					t.Fatalf("POST /clients = %d %s", a.status, a.body)
				}
				return a.json["client_id"].(string), a.json["client_secret"].(string)
			}
			uID, uSecret := register(e.loginAccess)
			_, bobAccess := e.apiUser(t, "bob@example.com")
			vID, vSecret := register(bobAccess)
			own := e.authorityToken(t, uID, uSecret)
			others := e.authorityToken(t, vID, vSecret)
			cliToken := e.authorityToken(t, e.aID, e.aSecret)
			ask := func(id, secret, tok string) answer {
				return e.post(t, "/oauth2/introspect", url.Values{"token": {tok}}.Encode(), formCT, basicAuth(id, secret))
			}
			for _, tc := range []struct {
				name       string
				id, secret string
				token      string
				active     bool
			}{
				{"its own token", uID, uSecret, own, true},
				{"its creator's login token", uID, uSecret, e.loginAccess, false},
				{"its creator's refresh token", uID, uSecret, e.loginRefresh, false},
				{"a third-party app's token of its creator", uID, uSecret, e.appA.AccessToken, false},
				{"another user's client's token", uID, uSecret, others, false},
				{"a CLI client's token", uID, uSecret, cliToken, false},
				{"CLI client: a user's login token", e.aID, e.aSecret, e.loginAccess, true},
				{"CLI client: a user's refresh token", e.aID, e.aSecret, e.loginRefresh, true},
				{"CLI client: a user-made client's token", e.aID, e.aSecret, own, true},
				{"CLI client of another domain: a user's token", e.bID, e.bSecret, e.loginAccess, true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := ask(tc.id, tc.secret, tc.token)
					if !tc.active {
						wantInactive(t, a)
						return
					}
					if a.status != 200 || a.json["active"] != true {
						t.Fatalf("= %d %s, want active", a.status, a.body)
					}
				})
			}
		})
	}
}
