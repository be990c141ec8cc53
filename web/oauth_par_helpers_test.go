package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// push posts an authorization request to /oauth2/par, authenticated with
// Basic (a secret) or as a public client (client_id in the form).
func (e flowEnv) push(t testing.TB, id, secret string, form url.Values) answer {
	t.Helper()
	var edit func(*http.Request)
	if secret != "" {
		edit = func(r *http.Request) { r.SetBasicAuth(id, secret) }
	} else {
		form.Set("client_id", id)
	}
	return e.post(t, "/oauth2/par", form.Encode(), "application/x-www-form-urlencoded", edit)
}

// pushed pushes form and returns the request_uri; anything but 201 fails t.
func (e flowEnv) pushed(t testing.TB, id, secret string, form url.Values) string {
	t.Helper()
	a := e.push(t, id, secret, form)
	uri, _ := a.json["request_uri"].(string)
	if a.status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || a.json["expires_in"] != 60.0 {
		t.Fatalf("push = %d %s", a.status, a.body)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("push Cache-Control %q", a.header.Get("Cache-Control"))
	}
	return uri
}

// parPath is the authorization request that uses a pushed request.
func parPath(id, requestURI string) string {
	return authorizePath(url.Values{"client_id": {id}, "request_uri": {requestURI}})
}

// wantRequestPage checks that p is the authorization endpoint's error page
// (400, no redirect).
func wantRequestPage(t *testing.T, what string, p pageResp) {
	t.Helper()
	if p.status != http.StatusBadRequest || p.location() != "" {
		t.Fatalf("%s = %d → %q, want the 400 error page", what, p.status, p.location())
	}
}
