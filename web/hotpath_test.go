package web

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// The hot-path table must hold exactly what the router would dispatch to:
// for every hot path and method the same handler (the endpoint, or the
// path's wrong-method handler), whatever the request's headers.
func TestHotPathsServeWhatTheRouterWould(t *testing.T) {
	env := newOAuthEnv(t, "sqlite+memory", "0")
	f, ok := env.Handler.(*front)
	if !ok {
		t.Fatalf("New returned %T, want *front", env.Handler)
	}
	for _, path := range hotPaths {
		hr := f.hot[path]
		if hr == nil || hr.label != path {
			t.Fatalf("%s is not in the hot table under its own label: %+v", path, hr)
		}
		for _, m := range hotMethods {
			// Headers that select other routes elsewhere (pages vs API).
			for _, hdr := range []http.Header{{}, {"Content-Type": {"application/json"}},
				{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"text/html"}}} {
				req := httptest.NewRequest(m, path, nil)
				req.Header = hdr
				var match mux.RouteMatch
				if !f.router.Match(req, &match) || match.Route == nil {
					t.Fatalf("router does not match %s %s", m, path)
				}
				hot := hr.methods[m]
				if hot == nil {
					t.Fatalf("%s %s: not in the hot table", m, path)
				}
				if a, b := reflect.ValueOf(match.Route.GetHandler()), reflect.ValueOf(hot); a.Type() != b.Type() || a.Pointer() != b.Pointer() {
					t.Fatalf("%s %s %v: router dispatches to %v, hot table to %v", m, path, hdr, a.Type(), b.Type())
				}
			}
		}
	}
}

// A hot-path response carries what every response carries: the security
// headers (SEC-41) and a metrics count under the route template.
func TestHotPathsKeepHeadersAndMetrics(t *testing.T) {
	env := newOAuthEnv(t, "sqlite+memory", "0")
	for _, tc := range []struct {
		method, path, body string
		code               int
	}{
		{"GET", "/.well-known/jwks.json", "", 200},
		{"HEAD", "/.well-known/openid-configuration", "", 200},
		{"POST", "/oauth2/token", "grant_type=client_credentials&client_id=nobody&client_secret=x", 401},
		{"GET", "/oauth2/token", "", 405}, // the path's OAuth-shaped 405 (SPEC §2)
		{"PUT", "/oauth2/token", "", 405}, // not a hot method: through the router
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.body != "" {
			req.Header.Set("Content-Type", formMediaType)
		}
		rec := httptest.NewRecorder()
		env.Handler.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, rec.Code, rec.Body, tc.code)
		}
		for _, hdr := range []string{"X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy", "X-Frame-Options"} {
			if rec.Header().Get(hdr) == "" {
				t.Errorf("%s %s: missing %s", tc.method, tc.path, hdr)
			}
		}
	}
	rec := httptest.NewRecorder()
	env.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range []string{
		`user_registry_http_requests_total{code="200",route="/.well-known/jwks.json"} 1`,
		`user_registry_http_requests_total{code="200",route="/.well-known/openid-configuration"} 1`,
		`user_registry_http_requests_total{code="401",route="/oauth2/token"} 1`,
		`user_registry_http_requests_total{code="405",route="/oauth2/token"} 2`,
		`user_registry_http_request_duration_seconds_count{route="/oauth2/token"} 3`,
	} {
		if !strings.Contains(rec.Body.String(), line) {
			t.Errorf("metrics lack %s", line)
		}
	}
}

// The discovery document has an ETag and answers a matching
// If-None-Match with 304, like the JWKS.
func TestDiscoveryConditionalGet(t *testing.T) {
	env := newOAuthEnv(t, "sqlite+memory", "0")
	rec := httptest.NewRecorder()
	env.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	etag := rec.Header().Get("ETag")
	if rec.Code != 200 || etag == "" || !strings.Contains(rec.Body.String(), `"jwks_uri"`) {
		t.Fatalf("discovery = %d etag %q %s", rec.Code, etag, rec.Body)
	}
	req := httptest.NewRequest("GET", "/.well-known/openid-configuration", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	env.Handler.ServeHTTP(rec, req)
	if rec.Code != 304 || rec.Body.Len() != 0 {
		t.Fatalf("conditional discovery = %d %s, want 304", rec.Code, rec.Body)
	}
}
