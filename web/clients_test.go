package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"user-registry/keys"
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

// apiUser signs email up and in through the API and returns the user id
// and the access token.
func (e oauthEnv) apiUser(t *testing.T, email string) (id, token string) {
	t.Helper()
	id = signup(t, e.Handler, email)
	token, _ = login(t, e.Handler, email, testPassword)
	return id, token
}

// claimToken mints a first-party token for the stored user u whose
// is_activated claim says activated, whatever the record says.
func (e oauthEnv) claimToken(t *testing.T, u storage.User, activated bool) string {
	t.Helper()
	tok, _, err := e.Tokens.MintAccess(context.Background(), keys.AccessClaims{
		Subject: u.ID, Email: u.Email, Domain: u.Domain, ClientID: "user-registry", Scope: "openid email phone",
		IsActivated: &activated,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestClientsAPI: create/list/delete through /clients with a user token. A
// user lists and deletes only the clients they registered there: another
// user's of the same domain, the operators' and a missing one are all the
// same 404 (SPEC §5, SECURITY 74).
func TestClientsAPI(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "0")
			ctx := context.Background()
			eve := storage.User{ID: "8d7c6b5a-4e3f-4a1b-9c8d-7e6f5a4b3c2d", Email: "eve@evil.com", EmailCanonical: "eve@evil.com",
				Domain: "evil.com", IsActivated: true, CreatedAt: time.Now()}
			if err := e.DB.CreateUser(ctx, &eve); err != nil {
				t.Fatal(err)
			}
			if err := e.DB.PutDomain(ctx, storage.DomainRecord{Domain: "evil.com", BelongsTo: storage.DomainBlocked}); err != nil {
				t.Fatal(err)
			}
			_, alice := e.apiUser(t, "alice@example.com")
			_, bob := e.apiUser(t, "bob@example.com")
			_, mallory := e.apiUser(t, "mallory@other.org")

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

			noBody := e.post(t, "/clients", "", "", bearer(alice))
			if noBody.status != 201 {
				t.Fatalf("create without body = %d %s", noBody.status, noBody.body)
			}
			bobs := e.post(t, "/clients", `{"name":"bob's"}`, "application/json", bearer(bob))
			if bobs.status != 201 {
				t.Fatalf("bob's create = %d %s", bobs.status, bobs.body)
			}
			bobsID := bobs.json["client_id"].(string)
			cliClient, _ := e.client(t, provider.ClientSpec{Domain: "example.com", Name: "made by the CLI"})
			adminClient, _ := e.client(t, provider.ClientSpec{Domain: "example.com", Admin: true})

			missing := e.do(t, "DELETE", "/clients/nope", "", "", bearer(alice))
			if missing.status != 404 || missing.json["message"] == nil {
				t.Fatalf("delete unknown = %d %s", missing.status, missing.body)
			}
			for _, tc := range []struct {
				name, method, path, body string
				auth                     func(*http.Request)
				status                   int
			}{
				{"no token", "POST", "/clients", "", nil, 401},
				{"blocked domain", "POST", "/clients", "", bearer(e.claimToken(t, eve, true)), 403},
				{"client token", "POST", "/clients", "", bearer(tok), 403},
				{"unknown field", "POST", "/clients", `{"name":"x","admin":true}`, bearer(alice), 400},
				{"list no token", "GET", "/clients", "", nil, 401},
				{"delete other domain's", "DELETE", "/clients/" + id, "", bearer(mallory), 404},
				{"delete same domain, another user's", "DELETE", "/clients/" + id, "", bearer(bob), 404},
				{"delete a CLI client of own domain", "DELETE", "/clients/" + cliClient, "", bearer(alice), 404},
				{"delete an admin client of own domain", "DELETE", "/clients/" + adminClient, "", bearer(alice), 404},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ct := ""
					if tc.body != "" {
						ct = "application/json"
					}
					a := e.do(t, tc.method, tc.path, tc.body, ct, tc.auth)
					if a.status != tc.status || a.json["message"] == nil {
						t.Fatalf("= %d %s, want %d", a.status, a.body, tc.status)
					}
					// Not another's: indistinguishable from a missing id.
					if tc.status == 404 && string(a.body) != string(missing.body) {
						t.Fatalf("body %s, want the missing id's %s", a.body, missing.body)
					}
				})
			}

			for _, tc := range []struct {
				who   string
				token string
				want  []string
			}{
				{"alice", alice, []string{id, noBody.json["client_id"].(string)}},
				{"bob", bob, []string{bobsID}},
				{"mallory", mallory, nil},
			} {
				list := e.do(t, "GET", "/clients", "", "", bearer(tc.token))
				cl, ok := list.json["clients"].([]any)
				if list.status != 200 || !ok {
					t.Fatalf("list of %s = %d %s", tc.who, list.status, list.body)
				}
				var ids []string
				for _, c := range cl {
					c := c.(map[string]any)
					if _, has := c["client_secret"]; has || c["created_at"] == "" || c["domain"] != "example.com" {
						t.Fatalf("listed client %v", c)
					}
					ids = append(ids, c["client_id"].(string))
				}
				sort.Strings(ids)
				sort.Strings(tc.want)
				if !slices.Equal(ids, tc.want) {
					t.Errorf("%s lists %v, want %v", tc.who, ids, tc.want)
				}
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
			for _, other := range []string{bobsID, cliClient, adminClient} {
				if _, err := e.clients.Get(ctx, other); err != nil {
					t.Errorf("client %s gone: %v", other, err)
				}
			}
		})
	}
}

// TestClientsAPIRequiresVerifiedAddress: POST /clients needs a verified
// address (403 "Please verify your email address."), as the stored user
// says: a token's is_activated claim may be stale either way.
func TestClientsAPIRequiresVerifiedAddress(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			ctx := context.Background()
			// With a mailer, users are unverified until they follow the link.
			unverified := oauthEnv{testEnv: newTestEnv(t, b, withClients("0"),
				func(_ *Config, a *provider.AccountsConfig) { a.ActivateAtSignup = false })}
			unverified.clients = unverified.Config.Clients
			carolID, carol := unverified.apiUser(t, "carol@example.com")
			carolRec, err := unverified.DB.UserByID(ctx, carolID)
			if err != nil {
				t.Fatal(err)
			}
			// Without a mailer, users are activated at signup.
			activated := newOAuthEnv(t, b, "0")
			daveID, _ := activated.apiUser(t, "dave@example.com")
			daveRec, err := activated.DB.UserByID(ctx, daveID)
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name   string
				env    oauthEnv
				token  string
				status int
			}{
				{"unverified user's login token", unverified, carol, 403},
				{"unverified user, token claiming verified", unverified, unverified.claimToken(t, carolRec, true), 403},
				{"verified user, token minted before verification", activated, activated.claimToken(t, daveRec, false), 201},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := tc.env.post(t, "/clients", `{"name":"x"}`, "application/json", bearer(tc.token))
					if a.status != tc.status {
						t.Fatalf("= %d %s, want %d", a.status, a.body, tc.status)
					}
					if tc.status == 403 && a.json["message"] != "Please verify your email address." {
						t.Fatalf("message %v", a.json["message"])
					}
				})
			}
			if list, err := unverified.clients.List(ctx, ""); err != nil || len(list) != 0 {
				t.Fatalf("clients after refusals: %v, %v", list, err)
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
