package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"user-registry/provider"
)

// TestBrowserCodeFlow drives Chromium through the code flow: the
// authorization request, the login form, the consent page, and the
// redirect to a relying party on another origin (the CSP's form-action
// must allow that redirect). Runs when USER_REGISTRY_TEST_CHROMIUM names
// the browser binary.
func TestBrowserCodeFlow(t *testing.T) {
	ctx := newChromium(t)
	e := newFlowEnv(t, "sqlite+memory")
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><p id="callback">callback</p>`))
	}))
	t.Cleanup(rp.Close)
	redirect := rp.URL + "/cb"
	id, secret := e.codeClient(t, provider.ClientSpec{RedirectURIs: []string{redirect}})
	v, _ := pkce()
	params := authParams(id, redirect, v)
	params.Set("state", "br state/+")

	do, _ := browserSteps(t, ctx)
	do("authorize → login", chromedp.Navigate(e.Server.URL+authorizePath(params)), chromedp.WaitVisible(css("#login-form")))
	do("sign in → consent",
		chromedp.SendKeys(css("#email"), e.email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#consent-form")),
	)
	do("approve → callback", chromedp.Click(css("#approve")), chromedp.WaitVisible(css("#callback")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if !strings.HasPrefix(loc, redirect+"?") || u.Query().Get("state") != "br state/+" || u.Query().Get("code") == "" {
		t.Fatalf("callback %q", loc)
	}
	a := e.exchange(t, id, secret, url.Values{"code": {u.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {v}})
	if a.status != 200 || a.json["id_token"] == nil {
		t.Fatalf("exchange = %d %s", a.status, a.body)
	}

	// Remembered consent: the login form's redirect chain reaches the
	// relying party directly.
	do("again", chromedp.Navigate(e.Server.URL+authorizePath(params)), chromedp.WaitVisible(css("#callback")))

	// Signed out, trusted client: the login form's redirect chain goes
	// through /oauth2/authorize straight to the relying party.
	trusted, _ := e.codeClient(t, provider.ClientSpec{RedirectURIs: []string{redirect}, Trusted: true})
	do("log out", chromedp.Navigate(e.Server.URL+"/account"), chromedp.WaitVisible(css("#logout")),
		chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
	do("trusted: login → callback", chromedp.Navigate(e.Server.URL+authorizePath(authParams(trusted, redirect, v))),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), e.email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#callback")),
	)
}

func TestFormActionSource(t *testing.T) {
	for in, want := range map[string]string{
		"https://app.example/cb?x=1":     "https://app.example",
		"http://127.0.0.1:8080/cb":       "http://127.0.0.1:8080",
		"http://[::1]:8080/cb":           "http://[::1]:8080",
		"com.example.app:/cb":            "com.example.app:",
		"https://a.example;script-src *": "",
		"":                               "",
	} {
		if got := formActionSource(in); got != want {
			t.Errorf("formActionSource(%q) = %q, want %q", in, got, want)
		}
	}
}
