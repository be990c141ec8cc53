package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"user-registry/provider"
	"user-registry/storage/sqlstore/sqltest"
)

// parCallback is the redirect URI of the --require-par clients below.
const parCallback = "http://127.0.0.1/cb"

// noFollow is an HTTP client that shows redirects instead of following
// them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// parPush pushes a public client's authorization request to base and
// returns the request_uri.
func parPush(t *testing.T, base, id string) string {
	t.Helper()
	form := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {parCallback}, "state": {"s1"},
		"code_challenge": {provider.S256Challenge(strings.Repeat("v", 43))}, "code_challenge_method": {"S256"}}
	resp, err := http.PostForm(base+"/oauth2/par", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 201 || v.ExpiresIn != 60 {
		t.Fatalf("push = %d %+v %v", resp.StatusCode, v, err)
	}
	return v.RequestURI
}

// authorizeAt opens base's authorization endpoint without a browser
// session and returns the status and Location.
func authorizeAt(t *testing.T, base string, q url.Values) (int, string) {
	t.Helper()
	resp, err := noFollow.Get(base + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// TestClientsRequirePAR: `clients create --require-par` is listed by
// `clients list --json` (require_par), refused without the code grant,
// and the running server refuses the client's plain authorization
// requests (invalid_request with iss at its redirect URI) while serving
// its pushed one once.
func TestClientsRequirePAR(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			base := serve(t, nil, b.args...)
			id, _ := createdClient(t, append([]string{"--domain", "app.example", "--public", "--redirect-uri", parCallback,
				"--require-par"}, b.args...)...)
			plain, _ := createdClient(t, append([]string{"--domain", "app.example", "--public", "--redirect-uri", parCallback}, b.args...)...)
			if _, errOut, code := cli(t, nil, append([]string{"clients", "create", "--domain", "app.example", "--require-par"}, b.args...)...); code != 1 ||
				!strings.Contains(errOut, "authorization_code") {
				t.Fatalf("--require-par without the code grant: %d %s", code, errOut)
			}
			out, errOut, code := cli(t, nil, append([]string{"clients", "list", "--json"}, b.args...)...)
			var list struct {
				Clients []struct {
					ID         string `json:"client_id"`
					RequirePAR *bool  `json:"require_par"`
				} `json:"clients"`
			}
			if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Clients) != 2 {
				t.Fatalf("list: %d %s %s %v", code, out, errOut, err)
			}
			for _, c := range list.Clients {
				if c.RequirePAR == nil || *c.RequirePAR != (c.ID == id) {
					t.Fatalf("list: require_par of %s: %s", c.ID, out)
				}
			}

			q := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {parCallback}, "state": {"s1"},
				"code_challenge": {provider.S256Challenge(strings.Repeat("v", 43))}, "code_challenge_method": {"S256"}}
			status, loc := authorizeAt(t, base, q)
			u, _ := url.Parse(loc)
			if status != http.StatusSeeOther || !strings.HasPrefix(loc, parCallback+"?") || u.Query().Get("error") != "invalid_request" ||
				u.Query().Get("iss") == "" {
				t.Fatalf("plain request of a --require-par client = %d → %q", status, loc)
			}
			q.Set("client_id", plain)
			if status, loc := authorizeAt(t, base, q); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") {
				t.Fatalf("plain request of another client = %d → %q, want the login page", status, loc)
			}
			pq := url.Values{"client_id": {id}, "request_uri": {parPush(t, base, id)}}
			if status, loc := authorizeAt(t, base, pq); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") {
				t.Fatalf("pushed request = %d → %q, want the login page", status, loc)
			}
			if status, loc := authorizeAt(t, base, pq); status != http.StatusBadRequest {
				t.Fatalf("request_uri reused = %d → %q", status, loc)
			}
		})
	}
}

// TestTwoNodesPARSingleUse: two `serve` processes on one MySQL and one
// Redis: a request pushed to node A is used at node B, and then refused
// by both (SEC-68: single use across nodes).
func TestTwoNodesPARSingleUse(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	secret := keySecretArg()
	args := []string{"--db", db, "--redis", redisURL, secret, "--issuer", "http://registry.test"}
	a, b := startServer(t, nil, args...), startServer(t, nil, args...)
	id, _ := createdClient(t, "--domain", "app.example", "--public", "--redirect-uri", parCallback, "--require-par", "--db", db, secret)
	q := url.Values{"client_id": {id}, "request_uri": {parPush(t, a.base, id)}}
	if status, loc := authorizeAt(t, b.base, q); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") {
		t.Fatalf("pushed at A, used at B = %d → %q", status, loc)
	}
	for _, n := range []*server{a, b} {
		if status, loc := authorizeAt(t, n.base, q); status != http.StatusBadRequest {
			t.Fatalf("reused at %s = %d → %q", n.base, status, loc)
		}
	}
}
