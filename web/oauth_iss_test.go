package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"user-registry/provider"
)

// TestAuthorizationResponseISS (RFC 9207): every redirect of the
// authorization endpoint back to the client, a code or any kind of error,
// carries iss = our issuer beside the client's own parameters; the error
// page (client or redirect URI not trusted) redirects nowhere.
func TestAuthorizationResponseISS(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			v, _ := pkce()
			trusted, _ := e.codeClient(t, provider.ClientSpec{Trusted: true})
			consent, _ := e.codeClient(t, provider.ClientSpec{})
			pub, _ := e.codeClient(t, provider.ClientSpec{Public: true})
			machine, _ := e.client(t, provider.ClientSpec{Domain: "app.example", RedirectURIs: []string{flowRedirect}})
			par, _ := e.codeClient(t, provider.ClientSpec{RequirePAR: true})
			signedIn, anon := e.browser(t), newPageClient(t, e.testEnv)
			with := func(id string, edit func(url.Values)) string {
				q := authParams(id, flowRedirect, v)
				edit(q)
				return authorizePath(q)
			}
			keep := func(url.Values) {}
			for _, tc := range []struct {
				name  string
				run   func() pageResp
				code  bool   // a code is expected
				error string // else this error
			}{
				{"code", func() pageResp { return signedIn.get(with(trusted, keep)) }, true, ""},
				{"code after consent", func() pageResp {
					return signedIn.consent(signedIn.get(with(consent, keep)), "approve")
				}, true, ""},
				{"access_denied", func() pageResp {
					return signedIn.consent(signedIn.get(with(consent, func(q url.Values) { q.Set("scope", "openid phone") })), "deny")
				}, false, "access_denied"},
				{"login_required", func() pageResp {
					return anon.get(with(trusted, func(q url.Values) { q.Set("prompt", "none") }))
				}, false, "login_required"},
				{"consent_required", func() pageResp {
					return signedIn.get(with(consent, func(q url.Values) { q.Set("prompt", "none"); q.Set("scope", "openid profile") }))
				}, false, "consent_required"},
				{"invalid_scope", func() pageResp { return signedIn.get(with(trusted, func(q url.Values) { q.Set("scope", "openid x") })) }, false, "invalid_scope"},
				{"unsupported_response_type", func() pageResp {
					return signedIn.get(with(trusted, func(q url.Values) { q.Set("response_type", "token") }))
				}, false, "unsupported_response_type"},
				{"invalid_request (PKCE)", func() pageResp {
					return signedIn.get(with(pub, func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }))
				}, false, "invalid_request"},
				{"invalid_request (require PAR)", func() pageResp { return signedIn.get(with(par, keep)) }, false, "invalid_request"},
				{"unauthorized_client", func() pageResp { return signedIn.get(with(machine, keep)) }, false, "unauthorized_client"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					q := redirectQuery(t, tc.run(), flowRedirect)
					if q.Get("iss") != e.Config.Issuer || len(q["iss"]) != 1 {
						t.Fatalf("iss = %q, want %q (%v)", q["iss"], e.Config.Issuer, q)
					}
					if q.Get("tenant") != "7" || q.Get("state") != "st-1" || (q.Get("code") != "") != tc.code || q.Get("error") != tc.error {
						t.Fatalf("callback query %v", q)
					}
				})
			}
			for _, path := range []string{
				with("unknown-client", keep),
				with(trusted, func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }),
			} {
				if p := signedIn.get(path); p.status != http.StatusBadRequest || p.location() != "" {
					t.Errorf("%s = %d → %q, want the error page", path, p.status, p.location())
				}
			}
		})
	}
}

// TestDiscoveryPARAndISS: the SPEC §12 discovery fields of RFC 9207 and
// RFC 9126, read by an OIDC client library (go-oidc's Provider.Claims)
// from both discovery documents.
func TestDiscoveryPARAndISS(t *testing.T) {
	e := newFlowEnv(t, "sqlite+memory")
	ctx := oidc.ClientContext(context.Background(), e.Server.Client())
	op, err := oidc.NewProvider(ctx, e.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		ISS        *bool  `json:"authorization_response_iss_parameter_supported"`
		PAR        string `json:"pushed_authorization_request_endpoint"`
		RequirePAR *bool  `json:"require_pushed_authorization_requests"`
	}
	if err := op.Claims(&md); err != nil {
		t.Fatal(err)
	}
	if md.ISS == nil || !*md.ISS || md.PAR != e.Config.Issuer+"/oauth2/par" || md.RequirePAR == nil || *md.RequirePAR {
		t.Fatalf("discovery: iss %v, PAR %q, require PAR %v", md.ISS, md.PAR, md.RequirePAR)
	}
	a := e.do(t, http.MethodGet, "/.well-known/oauth-authorization-server", "", "", nil)
	if a.json["authorization_response_iss_parameter_supported"] != true || a.json["pushed_authorization_request_endpoint"] != md.PAR ||
		a.json["require_pushed_authorization_requests"] != false {
		t.Fatalf("oauth-authorization-server: %s", a.body)
	}
	// The advertised endpoint is the one that answers.
	id, secret := e.codeClient(t, provider.ClientSpec{})
	v, _ := pkce()
	req, _ := http.NewRequest(http.MethodPost, md.PAR, strings.NewReader(authParams(id, flowRedirect, v).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("push to the advertised endpoint = %d", resp.StatusCode)
	}
}
