package web

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"user-registry/provider"
)

// rpApp is a relying party built only from golang.org/x/oauth2 and
// go-oidc, as third-party apps are: it signs users in through the code
// flow with PKCE and logs them out through the end_session_endpoint it
// reads from discovery.
type rpApp struct {
	*httptest.Server
	mu       sync.Mutex
	idToken  string
	token    *oauth2.Token
	verifier string
}

func newRPApp(t *testing.T, issuer string) (*rpApp, func(id, secret string)) {
	t.Helper()
	app := &rpApp{}
	var cfg oauth2.Config
	var endSession string
	var verifier *oidc.IDTokenVerifier
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, id, text string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><p id="` + id + `">` + html.EscapeString(text) + `</p>`))
	}
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		app.mu.Lock()
		app.verifier = oauth2.GenerateVerifier()
		v := app.verifier
		app.mu.Unlock()
		http.Redirect(w, r, cfg.AuthCodeURL("in-state", oauth2.S256ChallengeOption(v), oidc.Nonce("n-rp")), http.StatusFound)
	})
	mux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) {
		app.mu.Lock()
		v := app.verifier
		app.mu.Unlock()
		tok, err := cfg.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			page(w, "error", err.Error())
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(r.Context(), raw)
		if err != nil || idt.Nonce != "n-rp" {
			page(w, "error", "id token: "+err.Error())
			return
		}
		app.mu.Lock()
		app.idToken, app.token = raw, tok
		app.mu.Unlock()
		page(w, "signed-in", idt.Subject)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		app.mu.Lock()
		hint := app.idToken
		app.mu.Unlock()
		q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {app.URL + "/bye"}, "state": {"out state/+"}}
		http.Redirect(w, r, endSession+"?"+q.Encode(), http.StatusFound)
	})
	mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) {
		page(w, "bye", r.URL.Query().Get("state"))
	})
	app.Server = httptest.NewServer(mux)
	t.Cleanup(app.Server.Close)
	configure := func(id, secret string) {
		p, err := oidc.NewProvider(context.Background(), issuer)
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			EndSession string `json:"end_session_endpoint"`
			Backchan   bool   `json:"backchannel_logout_supported"`
			BackchanSD bool   `json:"backchannel_logout_session_supported"`
		}
		if err := p.Claims(&claims); err != nil || claims.EndSession != issuer+"/oauth2/logout" || !claims.Backchan || !claims.BackchanSD {
			t.Fatalf("discovery logout fields: %+v, %v", claims, err)
		}
		endSession = claims.EndSession
		verifier = p.Verifier(&oidc.Config{ClientID: id})
		cfg = oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: app.URL + "/cb",
			Scopes: []string{oidc.ScopeOpenID, "email"}}
	}
	return app, configure
}

// TestBrowserRPInitiatedLogout: Chromium signs in to an x/oauth2 + go-oidc
// app through the code flow, the app sends it to the end_session_endpoint
// with id_token_hint, post_logout_redirect_uri and state; the browser is
// back at the app with the state, its session here is gone, the app's
// access token is refused (within 1 s), and the app's back-channel
// endpoint got a logout token for the ID token's sid.
func TestBrowserRPInitiatedLogout(t *testing.T) {
	ctx := newChromium(t)
	e := newLogoutEnv(t, "sqlite+memory")
	app, configure := newRPApp(t, e.Config.Issuer)
	rcv := newReceiver(t)
	id, secret := e.codeClient(t, provider.ClientSpec{RedirectURIs: []string{app.URL + "/cb"},
		PostLogoutRedirectURIs: []string{app.URL + "/bye"}, BackchannelLogoutURI: rcv.URL})
	configure(id, secret)

	do, _ := browserSteps(t, ctx)
	do("app login → our login form", chromedp.Navigate(app.URL+"/login"), chromedp.WaitVisible(css("#login-form")))
	do("sign in → consent",
		chromedp.SendKeys(css("#email"), e.email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#consent-form")),
	)
	do("approve → signed in at the app", chromedp.Click(css("#approve")), chromedp.WaitVisible(css("#signed-in")))
	app.mu.Lock()
	tok, idToken := app.token, app.idToken
	app.mu.Unlock()
	c, err := e.Tokens.VerifyID(context.Background(), idToken, id)
	if err != nil {
		t.Fatal(err)
	}

	do("app logout → back at the app", chromedp.Navigate(app.URL+"/logout"), chromedp.WaitVisible(css("#bye")))
	state, err := chromedp.Run(ctx, chromedp.Text(css("#bye")))
	if err != nil {
		t.Fatal(err)
	}
	if state != "out state/+" {
		t.Fatalf("state %q", state)
	}
	do("our session is gone", chromedp.Navigate(e.Server.URL+"/account"), chromedp.WaitVisible(css("#login-form")))

	// The app's token is refused by this server's resource endpoints.
	client := oauth2.NewClient(context.Background(), oauth2.StaticTokenSource(tok))
	deadline := time.Now().Add(time.Second)
	for {
		resp, err := client.Get(e.Server.URL + "/userinfo")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("userinfo still answers %d a second after the logout", resp.StatusCode)
		}
	}
	e.deliver(t)
	got := rcv.got()
	if len(got) != 1 {
		t.Fatalf("back-channel: %d tokens", len(got))
	}
	e.checkLogoutToken(t, got[0], id, c.SID, c.Subject)
}
