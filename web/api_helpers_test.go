package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"user-registry/provider"
)

// testPassword passes the password policy (length, not a common password).
const testPassword = "correct horse battery 9"

// apiResp is a recorded answer of the real router.
type apiResp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// str returns a string field of the body ("" when absent or not a string).
func (r apiResp) str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

type reqOpt func(*http.Request)

func withToken(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withCT(ct string) reqOpt {
	return func(r *http.Request) {
		if ct == "" {
			r.Header.Del("Content-Type")
		} else {
			r.Header.Set("Content-Type", ct)
		}
	}
}

func withRemote(addr string) reqOpt { return func(r *http.Request) { r.RemoteAddr = addr } }

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Add(k, v) } }

// call sends one request through h. A non-empty body is JSON unless an
// option says otherwise. Every answer but 204 must be a JSON object.
func call(t testing.TB, h http.Handler, method, path, body string, opts ...reqOpt) apiResp {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := apiResp{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if rec.Code == http.StatusNoContent {
		if rec.Body.Len() != 0 {
			t.Fatalf("%s %s: 204 with a body: %q", method, path, rec.Body)
		}
		return resp
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp.Body); err != nil {
		t.Fatalf("%s %s = %d, body is not a JSON object: %q", method, path, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp
}

// wantMessage asserts the status and that the body is exactly
// {"message": msg}.
func wantMessage(t testing.TB, r apiResp, status int, msg string) {
	t.Helper()
	if r.Status != status || len(r.Body) != 1 || r.str("message") != msg {
		t.Fatalf("got %d %s, want %d {\"message\":%q}", r.Status, r.Raw, status, msg)
	}
}

// wantMessagePrefix is wantMessage for messages with variable detail (the
// decoder's).
func wantMessagePrefix(t testing.TB, r apiResp, status int, prefix string) {
	t.Helper()
	if r.Status != status || len(r.Body) != 1 || !strings.HasPrefix(r.str("message"), prefix) {
		t.Fatalf("got %d %s, want %d {\"message\":%q...}", r.Status, r.Raw, status, prefix)
	}
}

// wantTokens asserts a /login-shaped 200 and returns the tokens.
func wantTokens(t testing.TB, r apiResp) (access, refresh string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("got %d %s, want 200 with tokens", r.Status, r.Raw)
	}
	access, refresh = r.str("access_token"), r.str("refresh_token")
	if access == "" || refresh == "" || r.str("token_type") != "Bearer" {
		t.Fatalf("token body incomplete: %s", r.Raw)
	}
	if exp, ok := r.Body["expires_in"].(float64); !ok || exp <= 0 {
		t.Fatalf("expires_in = %v", r.Body["expires_in"])
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q, want no-store", cc)
	}
	return access, refresh
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// signup creates an account and fails the test otherwise.
func signup(t testing.TB, h http.Handler, email string) string {
	t.Helper()
	r := call(t, h, "POST", "/signup", jsonBody(map[string]any{"email": email, "password": testPassword}))
	if r.Status != http.StatusCreated {
		t.Fatalf("signup %s = %d %s", email, r.Status, r.Raw)
	}
	return r.str("user_id")
}

// login signs in and returns the tokens.
func login(t testing.TB, h http.Handler, email, password string) (access, refresh string) {
	t.Helper()
	return wantTokens(t, call(t, h, "POST", "/login", jsonBody(map[string]string{"email": email, "password": password})))
}

func genericLoginErrors(c *Config, _ *provider.AccountsConfig) { c.GenericLoginErrors = true }
