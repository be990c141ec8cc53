package web

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"user-registry/web/openapi"
)

// TestOpenAPIDescribesTheJSONAPI checks /openapi.json against the contract:
// every JSON endpoint of SPEC.md is described, and every described path is
// served.
func TestOpenAPIDescribesTheJSONAPI(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	spec := []string{
		"/signup", "/login", "/", "/logout", "/logout/all", "/update", "/me", "/refresh", "/password",
		"/verify-email", "/verify-email/resend", "/password/forgot", "/password/reset",
		"/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/userinfo", "/authority-token",
		"/clients", "/clients/{id}", "/admin/domains", "/admin/domains/{domain}",
		"/admin/users", "/admin/users/{id}", "/admin/users/{id}/logout", "/admin/users/{id}/mfa",
		"/.well-known/jwks.json", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server",
		"/healthz", "/readyz",
	}
	for _, p := range spec {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("openapi.json does not describe %s", p)
		}
	}

	env := newMailEnv(t, "sqlite+memory", "0", withClients("0"), withUserAdmin, withAudit(&auditTrail{}), withDevice("0", nil))
	for path, ops := range doc.Paths {
		target := strings.NewReplacer("{id}", "some-id", "{domain}", "example.com").Replace(path)
		for method := range ops {
			rec := httptest.NewRecorder()
			env.Handler.ServeHTTP(rec, httptest.NewRequest(strings.ToUpper(method), target, nil))
			if rec.Code == 404 && !strings.Contains(path, "{") || rec.Code == 405 {
				t.Errorf("described %s %s is not served: %d", strings.ToUpper(method), path, rec.Code)
			}
		}
	}
	rec := httptest.NewRecorder()
	env.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}
