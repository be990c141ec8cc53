package web

import (
	"net/http"
	"testing"

	"user-registry/provider"
)

// TestAdminAPI: admin-client tokens only (SEC-35); changes apply to the
// domain policy at once on this node.
func TestAdminAPI(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "0")
			adminID, adminSecret := e.client(t, provider.ClientSpec{Domain: "example.com", Admin: true, Audiences: []string{"https://api.example.com"}})
			plainID, plainSecret := e.client(t, provider.ClientSpec{Domain: "example.com", Scopes: []string{"read"}})
			victimID, victimSecret := e.client(t, provider.ClientSpec{Domain: "victim.org"})
			admin := e.authorityToken(t, adminID, adminSecret)
			plain := e.authorityToken(t, plainID, plainSecret)
			user := e.userToken(t, "alice@example.com")
			other := e.post(t, "/oauth2/token", "grant_type=client_credentials&audience=https://api.example.com", formCT,
				func(r *http.Request) { r.SetBasicAuth(adminID, adminSecret) })
			elsewhere, _ := other.json["access_token"].(string)

			for _, tc := range []struct {
				name, method, path, body string
				auth                     func(*http.Request)
				status                   int
			}{
				{"no token", "GET", "/admin/domains", "", nil, 401},
				{"bad token", "GET", "/admin/domains", "", bearer("x.y.z"), 401},
				{"user token", "GET", "/admin/domains", "", bearer(user), 403},
				{"client without admin scope", "GET", "/admin/domains", "", bearer(plain), 403},
				{"admin token for another audience", "GET", "/admin/domains", "", bearer(elsewhere), 403},
				{"user put", "PUT", "/admin/domains/victim.org", `{"belongs_to":1}`, bearer(user), 403},
				{"list", "GET", "/admin/domains", "", bearer(admin), 200},
				{"bad belongs_to", "PUT", "/admin/domains/victim.org", `{"belongs_to":2}`, bearer(admin), 400},
				{"missing belongs_to", "PUT", "/admin/domains/victim.org", `{}`, bearer(admin), 400},
				{"bad domain", "PUT", "/admin/domains/-bad-", `{"belongs_to":1}`, bearer(admin), 400},
				{"block", "PUT", "/admin/domains/VICTIM.org.", `{"belongs_to":1}`, bearer(admin), 200},
				{"delete", "DELETE", "/admin/domains/victim.org", "", bearer(admin), 204},
				{"delete again", "DELETE", "/admin/domains/victim.org", "", bearer(admin), 404},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ct := ""
					if tc.body != "" {
						ct = "application/json"
					}
					a := e.do(t, tc.method, tc.path, tc.body, ct, tc.auth)
					if a.status != tc.status {
						t.Fatalf("= %d %s, want %d", a.status, a.body, tc.status)
					}
					if tc.status >= 400 && a.json["message"] == nil {
						t.Fatalf("error body %s", a.body)
					}
					switch tc.name {
					case "list":
						if _, ok := a.json["domains"].([]any); !ok {
							t.Fatalf("list body %s", a.body)
						}
					case "block":
						if a.json["domain"] != "victim.org" || a.json["belongs_to"] != float64(1) {
							t.Fatalf("put body %s", a.body)
						}
						// The policy cache was invalidated: no token for the
						// victim's client from now on.
						r := e.post(t, "/authority-token", "grant_type=client_credentials", formCT,
							func(r *http.Request) { r.SetBasicAuth(victimID, victimSecret) })
						if r.status != 400 || r.json["error"] != "unauthorized_client" {
							t.Fatalf("blocked client token = %d %s", r.status, r.body)
						}
					case "delete":
						e.authorityToken(t, victimID, victimSecret)
					}
				})
			}
		})
	}
}
