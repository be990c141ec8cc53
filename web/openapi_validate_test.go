package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"user-registry/provider"
)

// TestOpenAPIMatchesTheServer drives a real server (SQLite, in-process
// store, a mailer, clients and the code flow) through the JSON API, the
// successes and the usual failures of each endpoint, and validates every
// answer against openapi.json (apiContract). The running server is the
// reference: a mismatch is a fault of the document unless SPEC.md says
// otherwise.
func TestOpenAPIMatchesTheServer(t *testing.T) {
	trail := &auditTrail{}
	devClock := newDeviceClock()
	env := newMailEnv(t, "sqlite+memory", "0", withClients("0"), withUserAdmin, withAudit(trail), withDevice("0", devClock.Now))
	api := newAPIContract(t, env.Handler)
	const email, pw, pw2 = "ann@example.com", testPassword, "another horse battery 10"
	bearer := func(tok string) string { return "Bearer " + tok }
	str := func(rec interface{ Bytes() []byte }, key string) string {
		var m map[string]any
		_ = json.Unmarshal(rec.Bytes(), &m)
		s, _ := m[key].(string)
		return s
	}

	// §3 and §3a: accounts.
	signupBody := jsonBody(map[string]any{"email": email, "password": pw, "phone_num": "+92 123 456 7890", "discoverable": true})
	api.do(apiCall{method: "POST", path: "/signup", body: signupBody, want: 201})
	api.do(apiCall{method: "POST", path: "/signup", body: signupBody, want: 202})
	api.do(apiCall{method: "POST", path: "/signup", body: `{"email":"nope","password":"x"}`, want: 400})
	api.do(apiCall{method: "POST", path: "/signup", body: signupBody, ct: "text/plain", want: 415})
	api.do(apiCall{method: "POST", path: "/signup", body: `{"email":"` + strings.Repeat("a", 17<<10) + `"}`, want: 413})
	api.do(apiCall{method: "GET", path: "/verify-email", query: "token=nope", want: 400})
	api.do(apiCall{method: "GET", path: "/verify-email", query: "token=" + env.token(t, email, "/verify-email"), want: 200})
	api.do(apiCall{method: "POST", path: "/verify-email/resend", body: `{"email":"` + email + `"}`, want: 202})

	login := api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 200})
	access, refresh := str(login.Body, "access_token"), str(login.Body, "refresh_token")
	api.do(apiCall{method: "POST", path: "/", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 200})
	api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": "wrong password 1"}), want: 401})
	api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": "nobody@example.com", "password": pw}), want: 401})
	api.do(apiCall{method: "POST", path: "/login", body: `{"email":"` + email + `"}`, want: 400})

	api.do(apiCall{method: "GET", path: "/me", auth: bearer(access), want: 200})
	api.do(apiCall{method: "GET", path: "/me", want: 401})
	api.do(apiCall{method: "POST", path: "/update", auth: bearer(access), body: `{"phone_num":""}`, want: 202})
	api.do(apiCall{method: "PATCH", path: "/update", auth: bearer(access), body: `{"discoverable":false}`, want: 202})
	api.do(apiCall{method: "POST", path: "/update", auth: bearer(access), body: `{}`, want: 200})
	api.do(apiCall{method: "POST", path: "/update", auth: bearer(access), body: `{"email":"x@example.com"}`, want: 400})
	api.do(apiCall{method: "POST", path: "/update", body: `{}`, want: 401})

	api.do(apiCall{method: "POST", path: "/refresh", body: jsonBody(map[string]string{"refresh_token": refresh}), want: 200})
	api.do(apiCall{method: "POST", path: "/refresh", body: jsonBody(map[string]string{"refresh_token": refresh}), want: 401})
	api.do(apiCall{method: "POST", path: "/refresh", body: `{"refresh_token":1}`, want: 400})
	// The reuse ended that session; sign in again.
	login = api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 200})
	access = str(login.Body, "access_token")

	// §5: the user's clients and authority tokens.
	created := api.do(apiCall{method: "POST", path: "/clients", auth: bearer(access), body: `{"name":"Billing"}`, want: 201})
	clientID, clientSecret := str(created.Body, "client_id"), str(created.Body, "client_secret")
	api.do(apiCall{method: "GET", path: "/clients", auth: bearer(access), want: 200})
	api.do(apiCall{method: "GET", path: "/clients", want: 401})
	api.do(apiCall{method: "POST", path: "/clients", auth: bearer(access), body: `{"name":1}`, want: 400})

	cc := url.Values{"grant_type": {"client_credentials"}}
	api.do(apiCall{method: "POST", path: "/authority-token", form: cc, basic: [2]string{clientID, clientSecret}, want: 200})
	api.do(apiCall{method: "POST", path: "/authority-token", body: jsonBody(map[string]string{"client_id": clientID, "client_secret": clientSecret}), want: 200})
	api.do(apiCall{method: "POST", path: "/authority-token", form: cc, basic: [2]string{clientID, "wrong"}, want: 401})
	api.do(apiCall{method: "POST", path: "/authority-token", body: `{"client_id":1}`, want: 400})
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: cc, basic: [2]string{clientID, clientSecret}, want: 200})
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: url.Values{"grant_type": {"password"}}, basic: [2]string{clientID, clientSecret}, want: 400})
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: url.Values{}, basic: [2]string{clientID, clientSecret}, want: 400})
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}},
		basic: [2]string{clientID, clientSecret}, want: 400})
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: cc, basic: [2]string{"nobody", "nothing"}, want: 401})
	api.do(apiCall{method: "POST", path: "/clients/{id}/secret", params: map[string]string{"id": clientID}, auth: bearer(access), body: `{"grace":"1h"}`, want: 200})
	api.do(apiCall{method: "POST", path: "/clients/{id}/secret", params: map[string]string{"id": "nope"}, auth: bearer(access), want: 404})
	api.do(apiCall{method: "POST", path: "/clients/{id}/secret", params: map[string]string{"id": clientID}, auth: bearer(access), body: `{"grace":"x"}`, want: 400})
	api.do(apiCall{method: "DELETE", path: "/clients/{id}", params: map[string]string{"id": clientID}, auth: bearer(access), want: 204})
	api.do(apiCall{method: "DELETE", path: "/clients/{id}", params: map[string]string{"id": clientID}, auth: bearer(access), want: 404})

	openAPICodeFlow(t, env, api, email, pw)
	openAPIPAR(t, env, api)                         // openapi_par_test.go
	openAPIDevice(t, env, api, devClock, email, pw) // openapi_device_test.go
	openAPIAdmin(t, env, api, access)
	openAPIAdminUsers(t, env, api, access)

	// Keys, discovery, health.
	for _, p := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/healthz", "/readyz"} {
		api.do(apiCall{method: "GET", path: p, want: 200})
	}

	// §3a: password change, reset, logout, account deletion.
	api.do(apiCall{method: "POST", path: "/password", auth: bearer(access), body: jsonBody(map[string]string{"current_password": "wrong password 1", "new_password": pw2}), want: 401})
	api.do(apiCall{method: "POST", path: "/password", auth: bearer(access), body: jsonBody(map[string]string{"current_password": pw, "new_password": pw2}), want: 200})
	api.do(apiCall{method: "POST", path: "/password/forgot", body: `{"email":"` + email + `"}`, want: 202})
	api.do(apiCall{method: "POST", path: "/password/reset", body: jsonBody(map[string]string{"token": "nope", "password": pw}), want: 400})
	api.do(apiCall{method: "POST", path: "/password/reset", body: jsonBody(map[string]string{"token": env.token(t, email, "/password/reset"), "password": pw}), want: 200})

	login = api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 200})
	access = str(login.Body, "access_token")
	api.do(apiCall{method: "POST", path: "/logout", auth: bearer(access), want: 200})
	api.do(apiCall{method: "GET", path: "/logout", auth: bearer(access), want: 401})
	api.do(apiCall{method: "DELETE", path: "/logout", want: 401})
	login = api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 200})
	access = str(login.Body, "access_token")
	api.do(apiCall{method: "POST", path: "/logout/all", auth: bearer(access), want: 200})
	api.do(apiCall{method: "POST", path: "/logout/all", auth: bearer(access), want: 401})
	login = api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 200})
	access = str(login.Body, "access_token")
	api.do(apiCall{method: "DELETE", path: "/me", auth: bearer(access), body: `{"password":"wrong password 1"}`, want: 401})
	api.do(apiCall{method: "DELETE", path: "/me", auth: bearer(access), body: jsonBody(map[string]string{"password": pw}), want: 204})
	openAPIMFA(t, env, api)
	openAPIPasskeys(t, env, api)
	openAPIAudit(t, env, api, trail)

	if m := api.missed(); len(m) > 0 {
		t.Errorf("operations of openapi.json this test does not exercise: %v", m)
	}
}

// openAPICodeFlow runs the authorization code flow in a browser session,
// then the token endpoint's code and refresh grants, userinfo,
// introspection (by an operator's client) and revocation.
func openAPICodeFlow(t *testing.T, env *mailEnv, api *apiContract, email, pw string) {
	t.Helper()
	clients := env.Config.Clients
	app, appSecret, err := clients.Create(context.Background(), provider.ClientSpec{Domain: "app.example", Name: "App", Trusted: true,
		GrantTypes: []string{provider.GrantAuthorizationCode, provider.GrantRefreshToken}, RedirectURIs: []string{flowRedirect}})
	if err != nil {
		t.Fatal(err)
	}
	rs, rsSecret, err := clients.Create(context.Background(), provider.ClientSpec{Domain: "rs.example"})
	if err != nil {
		t.Fatal(err)
	}
	b := newPageClient(t, env.testEnv)
	b.signIn(email, pw)
	verifier, _ := pkce()
	params := authParams(app.ID, flowRedirect, verifier)
	params.Set("scope", "openid email phone offline_access")
	code := b.getCode(params)
	appAuth := [2]string{app.ID, appSecret}
	tokens := api.do(apiCall{method: "POST", path: "/oauth2/token", basic: appAuth, form: url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {verifier}}, want: 200})
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(tokens.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	refreshed := api.do(apiCall{method: "POST", path: "/oauth2/token", basic: appAuth,
		form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"openid email"}}, want: 200})
	if err := json.Unmarshal(refreshed.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}

	api.do(apiCall{method: "GET", path: "/userinfo", auth: "Bearer " + tok.AccessToken, want: 200})
	api.do(apiCall{method: "POST", path: "/userinfo", auth: "Bearer " + tok.AccessToken, want: 200})
	api.do(apiCall{method: "GET", path: "/userinfo", want: 401})

	rsAuth := [2]string{rs.ID, rsSecret}
	for _, token := range []string{tok.AccessToken, tok.RefreshToken, "nope"} {
		api.do(apiCall{method: "POST", path: "/oauth2/introspect", basic: rsAuth, form: url.Values{"token": {token}}, want: 200})
	}
	api.do(apiCall{method: "POST", path: "/oauth2/introspect", basic: [2]string{rs.ID, "wrong"}, form: url.Values{"token": {"x"}}, want: 401})
	api.do(apiCall{method: "POST", path: "/oauth2/introspect", basic: rsAuth, form: url.Values{}, want: 400})
	api.do(apiCall{method: "POST", path: "/oauth2/revoke", basic: appAuth, form: url.Values{"token": {tok.RefreshToken}}, want: 200})
	api.do(apiCall{method: "POST", path: "/oauth2/revoke", basic: [2]string{app.ID, "wrong"}, form: url.Values{"token": {"x"}}, want: 401})
	api.do(apiCall{method: "POST", path: "/oauth2/revoke", basic: appAuth, form: url.Values{}, want: 400})
	// A code used twice: invalid_grant.
	api.do(apiCall{method: "POST", path: "/oauth2/token", basic: appAuth, form: url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {verifier}}, want: 400})
}

// openAPIAdmin runs the domain admin API with an admin client's token, a
// user's token and none.
func openAPIAdmin(t *testing.T, env *mailEnv, api *apiContract, userAccess string) {
	t.Helper()
	admin, secret, err := env.Config.Clients.Create(context.Background(), provider.ClientSpec{Domain: "ops.example", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := api.do(apiCall{method: "POST", path: "/authority-token", basic: [2]string{admin.ID, secret},
		form: url.Values{"grant_type": {"client_credentials"}}, want: 200})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	auth := "Bearer " + tok.AccessToken
	dom := map[string]string{"domain": "evil.example"}
	api.do(apiCall{method: "PUT", path: "/admin/domains/{domain}", params: dom, auth: auth, body: `{"belongs_to":1}`, want: 200})
	api.do(apiCall{method: "PUT", path: "/admin/domains/{domain}", params: dom, auth: auth, body: `{"belongs_to":7}`, want: 400})
	api.do(apiCall{method: "GET", path: "/admin/domains", auth: auth, want: 200})
	api.do(apiCall{method: "PUT", path: "/admin/domains/{domain}", params: map[string]string{"domain": "spam.example"}, auth: auth, body: `{"belongs_to":1}`, want: 200})
	api.do(apiCall{method: "GET", path: "/admin/domains", query: "limit=1&q=example", auth: auth, want: 200}) // with next_cursor
	api.do(apiCall{method: "GET", path: "/admin/domains", query: "limit=501", auth: auth, want: 400})
	api.do(apiCall{method: "GET", path: "/admin/domains", query: "cursor=%25%25", auth: auth, want: 400})
	api.do(apiCall{method: "GET", path: "/admin/domains", auth: "Bearer " + userAccess, want: http.StatusForbidden})
	api.do(apiCall{method: "GET", path: "/admin/domains", want: 401})
	api.do(apiCall{method: "POST", path: "/signup", body: `{"email":"eve@evil.example","password":"` + testPassword + `"}`, want: 401})
	api.do(apiCall{method: "DELETE", path: "/admin/domains/{domain}", params: dom, auth: auth, want: 204})
	api.do(apiCall{method: "DELETE", path: "/admin/domains/{domain}", params: dom, auth: auth, want: 404})
}
