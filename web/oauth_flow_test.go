package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"user-registry/provider"
)

// TestCodeFlowLibraries runs the whole flow as a relying party would, with
// golang.org/x/oauth2 and go-oidc: discovery, sign-in through the login
// form, consent, code exchange with PKCE, ID token verification (nonce,
// at_hash), the access token (verified with revocation checks), then refresh rotation and reuse.
func TestCodeFlowLibraries(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			id, secret := e.codeClient(t, provider.ClientSpec{})
			ctx := oidc.ClientContext(context.Background(), e.Server.Client())
			op, err := oidc.NewProvider(ctx, e.Server.URL)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			conf := oauth2.Config{
				ClientID: id, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: flowRedirect,
				Scopes: []string{oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess},
			}
			verifier := oauth2.GenerateVerifier()
			state := "s/ t+%&=é"
			authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-42"))
			if !strings.HasPrefix(authURL, e.Server.URL+"/oauth2/authorize?") {
				t.Fatalf("auth URL %q", authURL)
			}
			path := strings.TrimPrefix(authURL, e.Server.URL)

			// Signed out: the login page, then back.
			b := newPageClient(t, e.testEnv)
			p := b.get(path)
			pageWantStatus(t, "authorize signed out", p, http.StatusSeeOther)
			if want := "/login?next=" + url.QueryEscape(path); p.location() != want {
				t.Fatalf("signed-out redirect %q, want %q", p.location(), want)
			}
			login := b.get(p.location())
			pageWantStatus(t, "login page", login, http.StatusOK)
			p = b.post("/login", url.Values{csrfField: {scrapeCSRF(t, login.body)}, "email": {e.email},
				"password": {pagePassword}, "next": {path}})
			if p.status != http.StatusSeeOther || p.location() != path {
				t.Fatalf("login = %d → %q, want 303 → %q", p.status, p.location(), path)
			}
			p = b.get(path)
			pageWantStatus(t, "consent page", p, http.StatusOK)
			if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://app.example;") {
				t.Errorf("consent CSP %q does not allow the redirect", csp)
			}
			pageWantBody(t, "consent page", p, "Example App", "app.example", "See your email address",
				"Stay connected", "Approve", "Deny", e.email)
			p = b.consent(p, "approve")
			q := redirectQuery(t, p, flowRedirect)
			if q.Get("state") != state || q.Get("tenant") != "7" || q.Get("code") == "" {
				t.Fatalf("callback query %v", q)
			}

			tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.Extra("scope") != "openid email offline_access" {
				t.Fatalf("token %+v scope %v", tok, tok.Extra("scope"))
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := op.Verifier(&oidc.Config{ClientID: id}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("id token: %v", err)
			}
			if idt.Nonce != "nonce-42" {
				t.Errorf("nonce %q", idt.Nonce)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var claims struct {
				Email         string `json:"email"`
				EmailVerified bool   `json:"email_verified"`
				SID           string `json:"sid"`
				AuthTime      int64  `json:"auth_time"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.Email != e.email || !claims.EmailVerified || claims.SID == "" || claims.AuthTime == 0 {
				t.Errorf("id token claims %+v", claims)
			}
			ac, err := e.Tokens.VerifyAccess(context.Background(), tok.AccessToken, "")
			if err != nil {
				t.Fatalf("access token: %v", err)
			}
			// The ID token's sid names the browser session (SPEC §12); the
			// access token's names its refresh family, recorded in that session.
			if ac.ClientID != id || ac.SID == "" || ac.Audience[0] != e.Config.Issuer || ac.Email != e.email {
				t.Errorf("access claims %+v", ac)
			}

			// Refresh: rotation, then reuse of the old token revokes the family.
			refresh := func(rt string) answer {
				return e.post(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode(),
					"application/x-www-form-urlencoded", func(r *http.Request) { r.SetBasicAuth(id, secret) })
			}
			r1 := refresh(tok.RefreshToken)
			if r1.status != 200 || r1.json["refresh_token"] == tok.RefreshToken || r1.json["scope"] != "openid email offline_access" {
				t.Fatalf("refresh = %d %s", r1.status, r1.body)
			}
			if r1.header.Get("Cache-Control") != "no-store" {
				t.Errorf("refresh Cache-Control %q", r1.header.Get("Cache-Control"))
			}
			flowWantError(t, "reused refresh token", refresh(tok.RefreshToken), 400, "invalid_grant")
			flowWantError(t, "refresh after reuse", refresh(r1.json["refresh_token"].(string)), 400, "invalid_grant")
			if e.accessValid(r1.json["access_token"].(string)) || e.accessValid(tok.AccessToken) {
				t.Error("access tokens of a reused family still verify")
			}
		})
	}
}

// TestCodeFlowConsent: trusted clients skip the page, an approval is
// remembered for the same scopes (not for more), deny → access_denied.
func TestCodeFlowConsent(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			v, _ := pkce()
			b := e.browser(t)

			trusted, _ := e.codeClient(t, provider.ClientSpec{Trusted: true})
			p := b.get(authorizePath(authParams(trusted, flowRedirect, v)))
			if q := redirectQuery(t, p, flowRedirect); q.Get("code") == "" || q.Get("state") != "st-1" {
				t.Fatalf("trusted client: %v", q)
			}

			id, _ := e.codeClient(t, provider.ClientSpec{})
			params := authParams(id, flowRedirect, v)
			params.Set("scope", "openid email")
			p = b.get(authorizePath(params))
			pageWantStatus(t, "first consent", p, http.StatusOK)
			redirectQuery(t, b.consent(p, "approve"), flowRedirect)
			p = b.get(authorizePath(params))
			if q := redirectQuery(t, p, flowRedirect); q.Get("code") == "" {
				t.Fatalf("remembered consent: %v", q)
			}
			params.Set("scope", "openid email phone")
			p = b.get(authorizePath(params))
			pageWantStatus(t, "consent for a new scope", p, http.StatusOK)
			pageWantBody(t, "consent for a new scope", p, "See your phone number")

			p = b.consent(p, "deny")
			q := redirectQuery(t, p, flowRedirect)
			if q.Get("error") != "access_denied" || q.Get("state") != "st-1" || q.Get("code") != "" {
				t.Fatalf("deny: %v", q)
			}

			// prompt=none needs no UI or fails with consent_required.
			params.Set("prompt", "none")
			q = redirectQuery(t, b.get(authorizePath(params)), flowRedirect)
			if q.Get("error") != "consent_required" {
				t.Fatalf("prompt=none: %v", q)
			}
			anon := newPageClient(t, e.testEnv)
			q = redirectQuery(t, anon.get(authorizePath(params)), flowRedirect)
			if q.Get("error") != "login_required" {
				t.Fatalf("prompt=none signed out: %v", q)
			}
		})
	}
}

// TestConsentPostCSRF: the consent form post needs the session's CSRF
// token (403 page otherwise) and a session.
func TestConsentPostCSRF(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			id, _ := e.codeClient(t, provider.ClientSpec{})
			v, _ := pkce()
			b := e.browser(t)
			page := b.get(authorizePath(authParams(id, flowRedirect, v)))
			pageWantStatus(t, "consent", page, http.StatusOK)
			req := html.UnescapeString(flowAuthorizeRE.FindStringSubmatch(page.body)[1])
			for _, tc := range []struct {
				name string
				form url.Values
			}{
				{"no token", url.Values{"authorize": {req}, "action": {"approve"}}},
				{"wrong token", url.Values{"authorize": {req}, "action": {"approve"}, csrfField: {maskCSRF(provider.RandomBytes(32))}}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p := b.post("/oauth2/consent", tc.form)
					pageWantStatus(t, tc.name, p, http.StatusForbidden)
					if p.location() != "" {
						t.Errorf("redirected to %q", p.location())
					}
				})
			}
			// A token from another (signed-out) browser's login page.
			anon := newPageClient(t, e.testEnv)
			login := anon.get("/login")
			p := anon.post("/oauth2/consent", url.Values{"authorize": {req}, "action": {"approve"},
				csrfField: {scrapeCSRF(t, login.body)}})
			pageWantStatus(t, "signed out", p, http.StatusForbidden)
		})
	}
}
