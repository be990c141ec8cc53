package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"user-registry/provider"
)

// FuzzEndSession: whatever an end-session request carries, the answer is
// a page (200, 400) or a redirect to a post-logout URI the named client
// registered — never a 500, never anywhere else (SEC-65: no open
// redirect).
func FuzzEndSession(f *testing.F) {
	e := newLogoutEnv(f, "sqlite+memory")
	id, _ := e.codeClient(f, provider.ClientSpec{PostLogoutRedirectURIs: []string{postLogoutURI}})
	f.Add("", id, postLogoutURI, "s")
	f.Add("", id, "https://evil.example/", "s")
	f.Add("a.b.c", id, postLogoutURI, "")
	f.Add("", "", "//evil.example", "")
	f.Add("", id, postLogoutURI+"#x", "\x00")
	f.Fuzz(func(t *testing.T, hint, client, uri, state string) {
		q := url.Values{}
		for k, v := range map[string]string{"id_token_hint": hint, "client_id": client, "post_logout_redirect_uri": uri, "state": state} {
			if v != "" {
				q.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth2/logout?"+q.Encode(), nil))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest:
			if loc := rec.Header().Get("Location"); loc != "" {
				t.Fatalf("%d with Location %q", rec.Code, loc)
			}
		case http.StatusSeeOther:
			loc := rec.Header().Get("Location")
			if !strings.HasPrefix(loc, "https://app.example/signed-out?") {
				t.Fatalf("redirect to %q", loc)
			}
		default:
			t.Fatalf("status %d for %v", rec.Code, q)
		}
	})
}
