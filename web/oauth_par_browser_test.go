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

// TestBrowserPARFlow drives Chromium through a pushed request of a
// --require-par client: the browser opens /oauth2/authorize with client_id
// and request_uri only, signs in (the login form's redirect chain must be
// allowed to reach the relying party: its CSP is widened from the
// continuation, which the page reads without using it up), approves, and
// arrives with the code, the pushed state and iss. Runs when
// USER_REGISTRY_TEST_CHROMIUM names the browser binary.
func TestBrowserPARFlow(t *testing.T) {
	ctx := newChromium(t)
	e := newFlowEnv(t, "sqlite+memory")
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><p id="callback">callback</p>`))
	}))
	t.Cleanup(rp.Close)
	redirect := rp.URL + "/cb"
	id, secret := e.codeClient(t, provider.ClientSpec{RedirectURIs: []string{redirect}, RequirePAR: true})
	v, _ := pkce()
	params := authParams(id, redirect, v)
	params.Set("state", "par state/+")
	do, _ := browserSteps(t, ctx)
	callback := func() url.Values {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(loc)
		if !strings.HasPrefix(loc, redirect+"?") || u.Query().Get("state") != "par state/+" || u.Query().Get("iss") != e.Config.Issuer {
			t.Fatalf("callback %q", loc)
		}
		return u.Query()
	}

	do("authorize → login", chromedp.Navigate(e.Server.URL+parPath(id, e.pushed(t, id, secret, params))),
		chromedp.WaitVisible(css("#login-form")))
	do("sign in → consent",
		chromedp.SendKeys(css("#email"), e.email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#consent-form")),
	)
	do("approve → callback", chromedp.Click(css("#approve")), chromedp.WaitVisible(css("#callback")))
	q := callback()
	a := e.exchange(t, id, secret, url.Values{"code": {q.Get("code")}, "redirect_uri": {redirect}, "code_verifier": {v}})
	if a.status != 200 || a.json["id_token"] == nil {
		t.Fatalf("exchange = %d %s", a.status, a.body)
	}

	// Signed out with consent remembered: the login form's redirect chain
	// goes through /oauth2/authorize straight to the relying party.
	do("log out", chromedp.Navigate(e.Server.URL+"/account"), chromedp.WaitVisible(css("#logout")),
		chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
	do("login → callback", chromedp.Navigate(e.Server.URL+parPath(id, e.pushed(t, id, secret, params))),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), e.email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#callback")),
	)
	callback()
}
