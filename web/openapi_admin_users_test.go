package web

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"user-registry/provider"
)

// openAPIAdminUsers runs the user part of the admin API (SPEC §13) with a
// registry admin's token, a user's token and none, on a user of its own.
func openAPIAdminUsers(t *testing.T, env *mailEnv, api *apiContract, userAccess string) {
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
	rec = api.do(apiCall{method: "POST", path: "/signup", body: `{"email":"zed@ops.example","password":"` + testPassword + `","phone_num":"+4930123456"}`, want: 201})
	var made struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &made); err != nil {
		t.Fatal(err)
	}
	id := map[string]string{"id": made.UserID}
	nobody := map[string]string{"id": "nobody@ops.example"}

	api.do(apiCall{method: "GET", path: "/admin/users", auth: auth, query: "limit=1", want: 200})
	api.do(apiCall{method: "GET", path: "/admin/users", auth: auth, query: "domain=ops.example&q=zed", want: 200})
	api.do(apiCall{method: "GET", path: "/admin/users", auth: auth, query: "limit=501", want: 400})
	api.do(apiCall{method: "GET", path: "/admin/users", auth: "Bearer " + userAccess, want: 403})
	api.do(apiCall{method: "GET", path: "/admin/users", want: 401})
	api.do(apiCall{method: "GET", path: "/admin/users/{id}", params: id, auth: auth, want: 200})
	api.do(apiCall{method: "GET", path: "/admin/users/{id}", params: nobody, auth: auth, want: 404})
	api.do(apiCall{method: "PATCH", path: "/admin/users/{id}", params: id, auth: auth, body: `{"disabled":true}`, want: 200})
	api.do(apiCall{method: "PATCH", path: "/admin/users/{id}", params: id, auth: auth, body: `{"disabled":false}`, want: 200})
	api.do(apiCall{method: "PATCH", path: "/admin/users/{id}", params: id, auth: auth, body: `{"disabled":1}`, want: 400})
	api.do(apiCall{method: "PATCH", path: "/admin/users/{id}", params: id, auth: auth, body: `{"disabled":true}`, ct: "text/plain", want: 415})
	api.do(apiCall{method: "POST", path: "/admin/users/{id}/logout", params: id, auth: auth, want: 204})
	api.do(apiCall{method: "POST", path: "/admin/users/{id}/logout", params: nobody, auth: auth, want: 404})
	api.do(apiCall{method: "DELETE", path: "/admin/users/{id}/mfa", params: id, auth: auth, want: 204})
	api.do(apiCall{method: "DELETE", path: "/admin/users/{id}/mfa", params: id, auth: "Bearer " + userAccess, want: 403})
	api.do(apiCall{method: "DELETE", path: "/admin/users/{id}", params: id, auth: auth, want: 204})
	api.do(apiCall{method: "DELETE", path: "/admin/users/{id}", params: id, auth: auth, want: 404})
}
