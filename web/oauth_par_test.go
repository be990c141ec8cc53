package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"user-registry/provider"
)

// TestPARCodeFlow runs the code flow through a pushed request (RFC 9126)
// as a relying party would: discovery with go-oidc, the request built by
// golang.org/x/oauth2 and pushed with a plain POST, the browser sent with
// client_id and request_uri only (the URL's other parameters are ignored),
// sign-in and consent, then the code exchanged by x/oauth2 and the ID
// token verified. The request_uri and the continuation that carried it
// through sign-in are each used once (SEC-68).
func TestPARCodeFlow(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			id, secret := e.codeClient(t, provider.ClientSpec{})
			ctx := oidc.ClientContext(context.Background(), e.Server.Client())
			op, err := oidc.NewProvider(ctx, e.Server.URL)
			if err != nil {
				t.Fatal(err)
			}
			conf := oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: flowRedirect,
				Scopes: []string{oidc.ScopeOpenID, "email"}}
			verifier := oauth2.GenerateVerifier()
			authURL, err := url.Parse(conf.AuthCodeURL("state-9", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-9")))
			if err != nil {
				t.Fatal(err)
			}
			uri := e.pushed(t, id, secret, authURL.Query())

			// Signed out: parameters beside client_id and request_uri are
			// ignored; the login page continues with a continuation.
			b := newPageClient(t, e.testEnv)
			p := b.get(parPath(id, uri) + "&state=evil&redirect_uri=" + url.QueryEscape("https://evil.example/cb"))
			pageWantStatus(t, "authorize signed out", p, http.StatusSeeOther)
			loginURL, _ := url.Parse(p.location())
			next := loginURL.Query().Get("next")
			nu, _ := url.Parse(next)
			if loginURL.Path != "/login" || nu.Path != "/oauth2/authorize" || nu.Query().Get("client_id") != id ||
				nu.Query().Get("request_uri") == uri || len(nu.Query()) != 2 {
				t.Fatalf("signed-out redirect %q", p.location())
			}
			wantRequestPage(t, "request_uri reused", b.get(parPath(id, uri)))

			login := b.get(p.location())
			if csp := login.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://app.example;") {
				t.Errorf("login page CSP %q does not allow the redirect", csp)
			}
			p = b.post("/login", url.Values{csrfField: {scrapeCSRF(t, login.body)}, "email": {e.email},
				"password": {pagePassword}, "next": {next}})
			if p.status != http.StatusSeeOther || p.location() != next {
				t.Fatalf("login = %d → %q, want → %q", p.status, p.location(), next)
			}
			consent := b.get(next)
			pageWantStatus(t, "consent page", consent, http.StatusOK)
			pageWantBody(t, "consent page", consent, "Example App", "See your email address")
			wantRequestPage(t, "continuation reused", b.get(next))

			q := redirectQuery(t, b.consent(consent, "approve"), flowRedirect)
			if q.Get("state") != "state-9" || q.Get("iss") != e.Config.Issuer || q.Get("code") == "" {
				t.Fatalf("callback query %v", q)
			}
			tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			idt, err := op.Verifier(&oidc.Config{ClientID: id}).Verify(ctx, tok.Extra("id_token").(string))
			if err != nil || idt.Nonce != "nonce-9" {
				t.Fatalf("id token: %v %+v", err, idt)
			}
		})
	}
}

// TestPARRefusals: what /oauth2/par refuses, always as RFC 6749 JSON and
// never a redirect; and the request_uri refusals of the authorization
// endpoint (an error page: the redirect URI is not known).
func TestPARRefusals(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			id, secret := e.codeClient(t, provider.ClientSpec{Trusted: true, Scopes: []string{"openid", "email"}})
			other, otherSecret := e.codeClient(t, provider.ClientSpec{Trusted: true})
			pub, _ := e.codeClient(t, provider.ClientSpec{Public: true, Trusted: true})
			v, _ := pkce()
			valid := func() url.Values { f := authParams(id, flowRedirect, v); f.Set("scope", "openid"); return f }
			edit := func(f func(url.Values)) url.Values { q := valid(); f(q); return q }
			for _, tc := range []struct {
				name       string
				id, secret string
				form       url.Values
				status     int
				code       string
			}{
				{"no secret", id, "", valid(), 401, "invalid_client"},
				{"wrong secret", id, "wrong", valid(), 401, "invalid_client"},
				{"another client's secret", id, otherSecret, valid(), 401, "invalid_client"},
				{"unregistered redirect_uri", id, secret, edit(func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }), 400, "invalid_request"},
				{"no redirect_uri", id, secret, edit(func(q url.Values) { q.Del("redirect_uri") }), 400, "invalid_request"},
				{"response_type token", id, secret, edit(func(q url.Values) { q.Set("response_type", "token") }), 400, "unsupported_response_type"},
				{"unregistered scope", id, secret, edit(func(q url.Values) { q.Set("scope", "openid phone") }), 400, "invalid_scope"},
				{"PKCE plain", id, secret, edit(func(q url.Values) { q.Set("code_challenge_method", "plain") }), 400, "invalid_request"},
				{"request_uri in the push", id, secret, edit(func(q url.Values) { q.Set("request_uri", "urn:ietf:params:oauth:request_uri:x") }), 400, "invalid_request"},
				{"client_id of another client", id, secret, edit(func(q url.Values) { q.Set("client_id", other) }), 400, "invalid_request"},
				{"repeated parameter", id, secret, edit(func(q url.Values) { q.Add("state", "again") }), 400, "invalid_request"},
				{"public client without PKCE", pub, "", edit(func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }), 400, "invalid_request"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := e.push(t, tc.id, tc.secret, tc.form)
					flowWantError(t, tc.name, a, tc.status, tc.code)
					if a.header.Get("Location") != "" {
						t.Errorf("%s redirected", tc.name)
					}
				})
			}
			if a := e.push(t, pub, "", valid()); a.status != http.StatusCreated {
				t.Fatalf("public client push = %d %s", a.status, a.body)
			}
			a := e.post(t, "/oauth2/par", `{"response_type":"code"}`, "application/json", func(r *http.Request) { r.SetBasicAuth(id, secret) })
			flowWantError(t, "JSON body", a, 400, "invalid_request")
			a = e.post(t, "/oauth2/par", "state="+strings.Repeat("x", 17<<10), "application/x-www-form-urlencoded",
				func(r *http.Request) { r.SetBasicAuth(id, secret) })
			flowWantError(t, "oversized body", a, 400, "invalid_request")
			if a := e.do(t, http.MethodGet, "/oauth2/par", "", "", nil); a.status != 405 || a.json["error"] != "invalid_request" {
				t.Fatalf("GET /oauth2/par = %d %s", a.status, a.body)
			}

			// The authorization endpoint: another client's request_uri is
			// refused and left to its owner; unknown and reused ones are
			// refused.
			b := e.browser(t)
			uri := e.pushed(t, id, secret, valid())
			wantRequestPage(t, "another client's request_uri", b.get(parPath(other, uri)))
			wantRequestPage(t, "no client_id", b.get(authorizePath(url.Values{"request_uri": {uri}})))
			wantRequestPage(t, "request_uri repeated", b.get(parPath(id, uri)+"&request_uri=x"))
			wantRequestPage(t, "unknown request_uri", b.get(parPath(id, uri+"x")))
			q := redirectQuery(t, b.get(parPath(id, uri)), flowRedirect)
			if q.Get("code") == "" || q.Get("state") != "st-1" || q.Get("iss") != e.Config.Issuer {
				t.Fatalf("owner's use: %v", q)
			}
			wantRequestPage(t, "request_uri reused", b.get(parPath(id, uri)))
		})
	}
}

// TestPARRequiredClient: a client created with RequirePAR gets its plain
// authorization requests refused with invalid_request at its redirect URI
// (RFC 9126 §5), and its pushed ones served.
func TestPARRequiredClient(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			id, secret := e.codeClient(t, provider.ClientSpec{Trusted: true, RequirePAR: true})
			v, _ := pkce()
			b := e.browser(t)
			q := redirectQuery(t, b.get(authorizePath(authParams(id, flowRedirect, v))), flowRedirect)
			if q.Get("error") != "invalid_request" || q.Get("code") != "" || q.Get("state") != "st-1" || q.Get("iss") != e.Config.Issuer {
				t.Fatalf("plain request: %v", q)
			}
			q = redirectQuery(t, b.get(parPath(id, e.pushed(t, id, secret, authParams(id, flowRedirect, v)))), flowRedirect)
			code := q.Get("code")
			if code == "" || q.Get("state") != "st-1" {
				t.Fatalf("pushed request: %v", q)
			}
			a := e.exchange(t, id, secret, url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}})
			if a.status != 200 || a.json["id_token"] == nil {
				t.Fatalf("exchange = %d %s", a.status, a.body)
			}
		})
	}
}

// TestPARRateLimit: pushes count against the client's limit like token
// requests (--limit-client): over it, 429 with Retry-After.
func TestPARRateLimit(t *testing.T) {
	e := flowEnv{oauthEnv: newOAuthEnv(t, "sqlite+memory", "2/1m")}
	id, secret := e.codeClient(t, provider.ClientSpec{})
	v, _ := pkce()
	for range 2 {
		e.pushed(t, id, secret, authParams(id, flowRedirect, v))
	}
	a := e.push(t, id, secret, authParams(id, flowRedirect, v))
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" || a.json["error"] == nil {
		t.Fatalf("third push = %d %v %s", a.status, a.header, a.body)
	}
}
