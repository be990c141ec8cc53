package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"user-registry/storage"
)

type pingFunc func(context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

func TestHealthAndReadiness(t *testing.T) {
	up := pingFunc(func(context.Context) error { return nil })
	down := pingFunc(func(context.Context) error { return storage.ErrUnavailable })
	tests := []struct {
		name   string
		ready  map[string]Pinger
		path   string
		status int
		body   string
	}{
		{"healthz", nil, "/healthz", 200, `{"status":"ok"}`},
		{"ready", map[string]Pinger{"database": up, "sessions": up}, "/readyz", 200, `"status":"ok"`},
		{"db down", map[string]Pinger{"database": down, "sessions": up}, "/readyz", 503, `"database":"unavailable"`},
		{"sessions down", map[string]Pinger{"database": up, "sessions": down}, "/readyz", 503, `"sessions":"unavailable"`},
		{"unknown path", nil, "/nope", 404, `{"message":"Not found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Config{Ready: tt.ready})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
				t.Fatalf("GET %s = %d %s, want %d containing %s", tt.path, rec.Code, rec.Body, tt.status, tt.body)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("body is not JSON: %s", rec.Body)
			}
			for _, hdr := range []string{"X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy", "X-Frame-Options"} {
				if rec.Header().Get(hdr) == "" {
					t.Errorf("missing %s", hdr)
				}
			}
		})
	}
}

func TestMetricsCountsRoutes(t *testing.T) {
	h := New(Config{})
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `user_registry_http_requests_total{code="200",route="/healthz"} 3`) {
		t.Fatalf("metrics = %d\n%s", rec.Code, rec.Body)
	}
}

func TestPanicIsA500WithoutDetails(t *testing.T) {
	h := recoverAndLog(discardLogger(), newMetrics())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(errors.New("secret detail"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}

func TestWrongMethodIs405(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	for _, tc := range []struct{ method, path string }{
		{"PUT", "/signup"}, {"DELETE", "/login"}, {"PUT", "/update"}, {"PATCH", "/refresh"},
		{"POST", "/admin/domains"}, {"PUT", "/healthz"}, {"POST", "/.well-known/jwks.json"},
	} {
		rec := httptest.NewRecorder()
		env.Handler.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != 405 || !strings.Contains(rec.Body.String(), `"message"`) {
			t.Errorf("%s %s = %d %s, want 405 JSON", tc.method, tc.path, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	env.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/no/such/path", nil))
	if rec.Code != 404 {
		t.Fatalf("unknown path = %d, want 404", rec.Code)
	}
}
