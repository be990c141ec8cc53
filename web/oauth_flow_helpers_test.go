package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"user-registry/provider"
)

// flowEnv is a test server with clients, the code flow, and one user.
type flowEnv struct {
	oauthEnv
	email string
}

const flowRedirect = "https://app.example/cb?tenant=7"

func newFlowEnv(t testing.TB, backend string) flowEnv {
	t.Helper()
	e := flowEnv{oauthEnv: newOAuthEnv(t, backend, "0"), email: "alice@flow.example"}
	if e.Config.CodeFlow == nil {
		t.Fatal("env has no code flow")
	}
	pageCreateUser(t, e.testEnv, e.email, pagePassword)
	return e
}

// codeClient registers an authorization_code client; public clients get
// no secret.
func (e flowEnv) codeClient(t testing.TB, spec provider.ClientSpec) (string, string) {
	t.Helper()
	if spec.Domain == "" {
		spec.Domain = "app.example"
	}
	if spec.Name == "" {
		spec.Name = "Example App"
	}
	if len(spec.GrantTypes) == 0 {
		spec.GrantTypes = []string{provider.GrantAuthorizationCode, provider.GrantRefreshToken}
	}
	if len(spec.RedirectURIs) == 0 {
		spec.RedirectURIs = []string{flowRedirect}
	}
	return e.client(t, spec)
}

// browser returns a signed-in page client.
func (e flowEnv) browser(t testing.TB) *pageClient {
	t.Helper()
	b := newPageClient(t, e.testEnv)
	b.signIn(e.email, pagePassword)
	return b
}

// authorizePath builds /oauth2/authorize?... from params.
func authorizePath(params url.Values) string { return "/oauth2/authorize?" + params.Encode() }

// pkce returns a verifier and its S256 challenge.
func pkce() (string, string) {
	v := "verifier-" + strings.Repeat("x", 40)
	return v, provider.S256Challenge(v)
}

// authParams are the usual parameters for client id with PKCE verifier v.
func authParams(id, redirect, v string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirect},
		"scope": {"openid email offline_access"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {provider.S256Challenge(v)}, "code_challenge_method": {"S256"},
	}
}

var (
	flowAuthorizeRE = regexp.MustCompile(`name="authorize" value="([^"]*)"`)
)

// consent answers the consent page p with action ("approve" or "deny").
func (b *pageClient) consent(p pageResp, action string) pageResp {
	b.t.Helper()
	m := flowAuthorizeRE.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no consent form in page (%d):\n%s", p.status, p.body)
	}
	return b.post("/oauth2/consent", url.Values{
		csrfField: {scrapeCSRF(b.t, p.body)}, "authorize": {html.UnescapeString(m[1])}, "action": {action},
	})
}

// redirectQuery checks that p redirects to the registered URI base and
// returns its query.
func redirectQuery(t testing.TB, p pageResp, base string) url.Values {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d, want 303; body:\n%s", p.status, p.body)
	}
	u, err := url.Parse(p.location())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := url.Parse(base)
	if u.Scheme != b.Scheme || u.Host != b.Host || u.Path != b.Path {
		t.Fatalf("redirect to %q, want base %q", p.location(), base)
	}
	return u.Query()
}

// getCode runs an authorization request for a signed-in browser that
// needs no consent page (trusted client or remembered consent) or approves
// it, and returns the code.
func (b *pageClient) getCode(params url.Values) string {
	b.t.Helper()
	p := b.get(authorizePath(params))
	if p.status == http.StatusOK {
		p = b.consent(p, "approve")
	}
	q := redirectQuery(b.t, p, params.Get("redirect_uri"))
	if q.Get("code") == "" {
		b.t.Fatalf("no code in %q", p.location())
	}
	return q.Get("code")
}

// exchange posts the authorization_code grant.
func (e flowEnv) exchange(t testing.TB, id, secret string, form url.Values) answer {
	t.Helper()
	form.Set("grant_type", "authorization_code")
	var edit func(*http.Request)
	if secret != "" {
		edit = func(r *http.Request) { r.SetBasicAuth(id, secret) }
	} else {
		form.Set("client_id", id)
	}
	return e.post(t, "/oauth2/token", form.Encode(), "application/x-www-form-urlencoded", edit)
}

// wantOAuthError checks an RFC 6749 error answer.
func flowWantError(t *testing.T, what string, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.json["error"] != code {
		t.Fatalf("%s = %d %s, want %d %s", what, a.status, a.body, status, code)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q", what, a.header.Get("Cache-Control"))
	}
}

// accessValid reports whether an access token still verifies (signature,
// expiry and revocation).
func (e flowEnv) accessValid(tok string) bool {
	_, err := e.Tokens.VerifyAccess(context.Background(), tok, "")
	return err == nil
}
