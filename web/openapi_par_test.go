package web

import (
	"context"
	"net/url"
	"testing"

	"user-registry/provider"
)

// openAPIPAR exercises POST /oauth2/par for TestOpenAPIMatchesTheServer:
// a push, the JSON refusals, a failed client authentication.
func openAPIPAR(t *testing.T, env *mailEnv, api *apiContract) {
	t.Helper()
	app, secret, err := env.Config.Clients.Create(context.Background(), provider.ClientSpec{Domain: "par.example",
		GrantTypes: []string{provider.GrantAuthorizationCode}, RedirectURIs: []string{flowRedirect}})
	if err != nil {
		t.Fatal(err)
	}
	auth := [2]string{app.ID, secret}
	form := url.Values{"response_type": {"code"}, "redirect_uri": {flowRedirect}, "scope": {"openid"}, "state": {"s"}}
	api.do(apiCall{method: "POST", path: "/oauth2/par", basic: auth, form: form, want: 201})
	bad := url.Values{"response_type": {"code"}, "redirect_uri": {"https://evil.example/cb"}}
	api.do(apiCall{method: "POST", path: "/oauth2/par", basic: auth, form: bad, want: 400})
	api.do(apiCall{method: "POST", path: "/oauth2/par", basic: [2]string{app.ID, "wrong"}, form: form, want: 401})
}
