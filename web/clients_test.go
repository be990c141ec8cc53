package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"user-registry/provider"
	"user-registry/storage"
)

// TestTokenRateLimitPerClient: over --limit-client → 429 with Retry-After;
// another client is not affected, and failed authentications do not count.
func TestTokenRateLimitPerClient(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "2/1m")
			id, secret := e.client(t, provider.ClientSpec{Domain: "example.com"})
			other, otherSecret := e.client(t, provider.ClientSpec{Domain: "example.com"})
			req := func(id, secret string) answer {
				return e.post(t, "/oauth2/token", "grant_type=client_credentials", formCT, func(r *http.Request) { r.SetBasicAuth(id, secret) })
			}
			for range 3 {
				if a := req(id, "wrong"); a.status != 401 {
					t.Fatalf("wrong secret = %d", a.status)
				}
			}
			for i, want := range []int{200, 200, 429} {
				a := req(id, secret)
				if a.status != want {
					t.Fatalf("request %d = %d %s, want %d", i, a.status, a.body, want)
				}
				if want == 429 && (a.header.Get("Retry-After") == "" || a.header.Get("Cache-Control") != "no-store" || a.json["error"] == nil) {
					t.Fatalf("429 headers %v body %s", a.header, a.body)
				}
			}
			if a := req(other, otherSecret); a.status != 200 {
				t.Fatalf("other client = %d", a.status)
			}
		})
	}
}

// TestClientsAPI: create/list/delete through /clients with a user token.
func TestClientsAPI(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "0")
			ctx := context.Background()
			if err := e.DB.PutDomain(ctx, storage.DomainRecord{Domain: "evil.com", BelongsTo: storage.DomainBlocked}); err != nil {
				t.Fatal(err)
			}
			alice := e.userToken(t, "alice@example.com")
			mallory := e.userToken(t, "mallory@other.org")
			evil := e.userToken(t, "eve@evil.com")

			created := e.post(t, "/clients", `{"name":"billing"}`, "application/json", bearer(alice))
			if created.status != 201 || created.json["client_secret"] == "" || created.json["domain"] != "example.com" ||
				created.json["name"] != "billing" || created.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("create = %d %s", created.status, created.body)
			}
			id, secret := created.json["client_id"].(string), created.json["client_secret"].(string)
			if g := created.json["grant_types"].([]any); len(g) != 1 || g[0] != "client_credentials" {
				t.Fatalf("grant_types = %v", g)
			}
			// The new client works at once.
			tok := e.authorityToken(t, id, secret)

			adminClient, _, err := e.clients.Create(ctx, provider.ClientSpec{Domain: "example.com", Admin: true})
			if err != nil {
				t.Fatal(err)
			}

			noBody := e.post(t, "/clients", "", "", bearer(alice))
			if noBody.status != 201 {
				t.Fatalf("create without body = %d %s", noBody.status, noBody.body)
			}

			for _, tc := range []struct {
				name, method, path, body string
				auth                     func(*http.Request)
				status                   int
			}{
				{"no token", "POST", "/clients", "", nil, 401},
				{"blocked domain", "POST", "/clients", "", bearer(evil), 403},
				{"client token", "POST", "/clients", "", bearer(tok), 403},
				{"unknown field", "POST", "/clients", `{"name":"x","admin":true}`, bearer(alice), 400},
				{"list no token", "GET", "/clients", "", nil, 401},
				{"delete other domain", "DELETE", "/clients/" + id, "", bearer(mallory), 404},
				{"delete unknown", "DELETE", "/clients/nope", "", bearer(alice), 404},
				{"delete own domain's admin client", "DELETE", "/clients/" + adminClient.ID, "", bearer(alice), 403},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ct := ""
					if tc.body != "" {
						ct = "application/json"
					}
					if a := e.do(t, tc.method, tc.path, tc.body, ct, tc.auth); a.status != tc.status || a.json["message"] == nil {
						t.Fatalf("= %d %s, want %d", a.status, a.body, tc.status)
					}
				})
			}

			list := e.do(t, "GET", "/clients", "", "", bearer(alice))
			cl, _ := list.json["clients"].([]any)
			if list.status != 200 || len(cl) != 3 {
				t.Fatalf("list = %d %s", list.status, list.body)
			}
			first := cl[0].(map[string]any)
			if _, has := first["client_secret"]; has || first["created_at"] == "" || first["domain"] != "example.com" {
				t.Fatalf("listed client %v", first)
			}
			if other := e.do(t, "GET", "/clients", "", "", bearer(mallory)); len(other.json["clients"].([]any)) != 0 {
				t.Fatalf("other domain sees %s", other.body)
			}
			if a := e.do(t, "DELETE", "/clients/"+id, "", "", bearer(alice)); a.status != 204 {
				t.Fatalf("delete = %d %s", a.status, a.body)
			}
			// Deleted on this node: refused at once.
			a := e.post(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}.Encode(), formCT,
				func(r *http.Request) { r.SetBasicAuth(id, secret) })
			if a.status != 401 {
				t.Fatalf("deleted client token = %d", a.status)
			}
		})
	}
}

// TestClientsAPIRefusesThirdPartyTokens: a token a third-party app got
// through the code flow (even with scope openid only) cannot register,
// list or delete the user's domain's clients: like the account API,
// /clients takes first-party (/login, /refresh) tokens only.
func TestClientsAPIRefusesThirdPartyTokens(t *testing.T) {
	e := newFlowEnv(t, "sqlite+memory")
	appID, appSecret := e.codeClient(t, provider.ClientSpec{Trusted: true})
	victim, _ := e.client(t, provider.ClientSpec{Domain: "flow.example"})
	v, _ := pkce()
	params := authParams(appID, flowRedirect, v)
	params.Set("scope", "openid")
	code := e.browser(t).getCode(params)
	a := e.exchange(t, appID, appSecret, url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}})
	tok, _ := a.json["access_token"].(string)
	if a.status != 200 || tok == "" {
		t.Fatalf("exchange = %d %s", a.status, a.body)
	}
	for _, tc := range []struct{ method, path string }{
		{"POST", "/clients"}, {"GET", "/clients"}, {"DELETE", "/clients/" + victim},
	} {
		if a := e.do(t, tc.method, tc.path, "", "", bearer(tok)); a.status != http.StatusForbidden || a.json["message"] == nil {
			t.Errorf("%s %s with a third-party token = %d %s, want 403", tc.method, tc.path, a.status, a.body)
		}
	}
	if _, err := e.Config.Clients.Get(context.Background(), victim); err != nil {
		t.Fatalf("victim client: %v", err)
	}
	// The user's own token still works.
	if a := e.do(t, "GET", "/clients", "", "", bearer(e.userToken(t, e.email))); a.status != 200 {
		t.Fatalf("GET /clients with a login token = %d %s", a.status, a.body)
	}
}
