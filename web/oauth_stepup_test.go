package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"user-registry/provider"
	"user-registry/storage"
)

// stepUpRP is a relying party (x/oauth2 + go-oidc) of a flowEnv with a
// trusted client, so no consent page is in the way.
type stepUpRP struct {
	e    flowEnv
	ctx  context.Context
	op   *oidc.Provider
	conf oauth2.Config
}

func newStepUpRP(t *testing.T, e flowEnv) stepUpRP {
	t.Helper()
	id, secret := e.codeClient(t, provider.ClientSpec{Trusted: true})
	ctx := oidc.ClientContext(context.Background(), e.Server.Client())
	op, err := oidc.NewProvider(ctx, e.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	return stepUpRP{e: e, ctx: ctx, op: op, conf: oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: op.Endpoint(),
		RedirectURL: flowRedirect, Scopes: []string{oidc.ScopeOpenID, "email"}}}
}

// path is the authorization request's path with extra parameters.
func (rp stepUpRP) path(extra ...string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption("verifier-" + strings.Repeat("v", 40))}
	for i := 0; i+1 < len(extra); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(extra[i], extra[i+1]))
	}
	return strings.TrimPrefix(rp.conf.AuthCodeURL("st", opts...), rp.e.Server.URL)
}

// idClaims is what the step-up cares about in an ID token.
type idClaims struct {
	AMR      []string `json:"amr"`
	ACR      string   `json:"acr"`
	AuthTime int64    `json:"auth_time"`
}

// redeem exchanges the code of callback p and returns the verified ID
// token's claims.
func (rp stepUpRP) redeem(t *testing.T, p pageResp) idClaims {
	t.Helper()
	q := redirectQuery(t, p, flowRedirect)
	tok, err := rp.conf.Exchange(rp.ctx, q.Get("code"), oauth2.VerifierOption("verifier-"+strings.Repeat("v", 40)))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.op.Verifier(&oidc.Config{ClientID: rp.conf.ClientID}).Verify(rp.ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	ac, err := rp.e.Tokens.VerifyAccess(context.Background(), tok.AccessToken, "")
	if err != nil || !slices.Equal(ac.AMR, c.AMR) || ac.ACR != c.ACR {
		t.Fatalf("access token amr %v acr %q (%v), ID token %v %q", ac.AMR, ac.ACR, err, c.AMR, c.ACR)
	}
	return c
}

// wantReauth checks that the request at path ends the session and sends
// the browser to sign in, coming back to want.
func wantReauth(t *testing.T, b *pageClient, path, want string) pageResp {
	t.Helper()
	p := b.get(path)
	if p.status != http.StatusSeeOther || p.location() != "/login?next="+url.QueryEscape(want) {
		t.Fatalf("GET %s = %d → %q, want the login page with next %q", path, p.status, p.location(), want)
	}
	if acct := b.get("/account"); acct.status != http.StatusSeeOther {
		t.Fatalf("the session survived a re-authentication: %d", acct.status)
	}
	return b.get(p.location())
}

// TestCodeFlowStepUp drives acr_values=mfa, max_age and prompt=login with
// x/oauth2 and go-oidc (SPEC §10): a password-only session is sent to
// sign in again, a user without a factor sets one up on the way, the ID
// and access tokens carry amr, acr and auth_time, and prompt=none answers
// interaction_required instead.
func TestCodeFlowStepUp(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			rp := newStepUpRP(t, e)
			b := e.browser(t)

			plain := rp.redeem(t, b.get(rp.path()))
			if !slices.Equal(plain.AMR, []string{"pwd"}) || plain.ACR != "pwd" || plain.AuthTime == 0 {
				t.Fatalf("password sign-in: %+v", plain)
			}
			q := redirectQuery(t, b.get(rp.path("acr_values", "mfa", "prompt", "none")), flowRedirect)
			if q.Get("error") != "interaction_required" {
				t.Fatalf("acr_values=mfa prompt=none: %v", q)
			}

			// acr_values=mfa: sign in again; without a factor, set one up.
			want := rp.path("acr_values", "mfa")
			login := wantReauth(t, b, want, want)
			setup := b.post("/login", url.Values{csrfField: {scrapeCSRF(t, login.body)}, "email": {e.email},
				"password": {pagePassword}, "next": {want}})
			pageWantBody(t, "enrolment on the way", setup, "Set up two-factor authentication")
			secret := scrape(t, pageSecretRE, setup.body)
			done := b.post("/login/mfa/setup", url.Values{csrfField: {scrapeCSRF(t, setup.body)},
				"mfa_token": {scrape(t, pageMFATokenRE, setup.body)}, "code": {totpCode(t, secret, time.Now())}, "next": {want}})
			pageWantBody(t, "recovery codes", done, `id="continue"`, `href="/oauth2/authorize?acr_values=mfa&amp;`)
			codes := pageCodeRE.FindAllStringSubmatch(done.body, -1)
			mfa := rp.redeem(t, b.get(want))
			if !slices.Equal(mfa.AMR, []string{"pwd", "otp", "mfa"}) || mfa.ACR != "mfa" {
				t.Fatalf("after the second factor: %+v", mfa)
			}
			// The session has it now: no new sign-in.
			rp.redeem(t, b.get(rp.path("acr_values", "mfa")))

			// max_age=0 and prompt=login sign in again (password + code),
			// and come back without the parameter that asked for it.
			for i, extra := range [][]string{{"max_age", "0"}, {"prompt", "login"}} {
				before := time.Now().Unix()
				want := rp.path()
				login := wantReauth(t, b, rp.path(extra...), want)
				two := b.post("/login", url.Values{csrfField: {scrapeCSRF(t, login.body)}, "email": {e.email},
					"password": {pagePassword}, "next": {want}})
				pageWantBody(t, "two-factor page", two, "Two-factor authentication")
				in := b.post("/login/mfa", url.Values{csrfField: {scrapeCSRF(t, two.body)},
					"mfa_token": {scrape(t, pageMFATokenRE, two.body)}, "code": {codes[i][1]}, "next": {want}})
				if in.status != http.StatusSeeOther || in.location() != want {
					t.Fatalf("%v: second step = %d → %q", extra, in.status, in.location())
				}
				c := rp.redeem(t, b.get(want))
				if c.AuthTime < before || c.ACR != "mfa" {
					t.Fatalf("%v: auth_time %d before %d, acr %q", extra, c.AuthTime, before, c.ACR)
				}
			}
			// A recent enough sign-in is used as it is.
			rp.redeem(t, b.get(rp.path("max_age", "3600")))
			q = redirectQuery(t, b.get(rp.path("max_age", "0", "prompt", "none")), flowRedirect)
			if q.Get("error") != "login_required" {
				t.Fatalf("max_age=0 prompt=none: %v", q)
			}
		})
	}
}

// TestCodeFlowRequireMFA: once the user's domain requires a second
// factor, a password-only session cannot get a code (SEC-59).
func TestCodeFlowRequireMFA(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newFlowEnv(t, backend)
			rp := newStepUpRP(t, e)
			b := e.browser(t)
			rp.redeem(t, b.get(rp.path()))
			if err := e.DB.PutDomain(context.Background(), storage.DomainRecord{Domain: "flow.example", RequireMFA: true}); err != nil {
				t.Fatal(err)
			}
			e.Policy.Invalidate()
			q := redirectQuery(t, b.get(rp.path("prompt", "none")), flowRedirect)
			if q.Get("error") != "interaction_required" {
				t.Fatalf("prompt=none under require_mfa: %v", q)
			}
			login := wantReauth(t, b, rp.path(), rp.path())
			setup := b.post("/login", url.Values{csrfField: {scrapeCSRF(t, login.body)}, "email": {e.email},
				"password": {pagePassword}, "next": {rp.path()}})
			pageWantBody(t, "enrolment", setup, "Set up two-factor authentication")
		})
	}
}
