package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"user-registry/provider"
)

// cliDevice is a command-line tool signing in with the device grant
// through golang.org/x/oauth2, unmodified: DeviceAuth, then
// DeviceAccessToken, which polls on its own timer (honouring slow_down).
type cliDevice struct {
	cfg    oauth2.Config
	auth   *oauth2.DeviceAuthResponse
	result chan cliResult
}

type cliResult struct {
	tok *oauth2.Token
	err error
}

// startCLI asks for device authorization as client id and starts polling
// in the background; wait returns the token.
func startCLI(t *testing.T, base, id string) *cliDevice {
	t.Helper()
	c := &cliDevice{cfg: oauth2.Config{
		ClientID: id, Scopes: []string{"openid", "email", "offline_access"},
		Endpoint: oauth2.Endpoint{DeviceAuthURL: base + "/oauth2/device_authorization", TokenURL: base + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInParams},
	}, result: make(chan cliResult, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	var err error
	if c.auth, err = c.cfg.DeviceAuth(ctx); err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if !deviceUserCodeRE.MatchString(c.auth.UserCode) || c.auth.VerificationURI != base+"/device" {
		t.Fatalf("device authorization %+v", c.auth)
	}
	go func() {
		tok, err := c.cfg.DeviceAccessToken(ctx, c.auth)
		c.result <- cliResult{tok, err}
	}()
	return c
}

// wait returns what the polling ended with and checks the tokens.
func (c *cliDevice) wait(t *testing.T, e deviceEnv) {
	t.Helper()
	r := <-c.result
	if r.err != nil {
		t.Fatalf("DeviceAccessToken: %v", r.err)
	}
	claims := e.verifyAccess(t, r.tok.AccessToken)
	if claims.ClientID != c.cfg.ClientID || claims.Email != e.email {
		t.Errorf("access token claims %+v", claims)
	}
	idTok, _ := r.tok.Extra("id_token").(string)
	if _, err := e.Tokens.VerifyID(context.Background(), idTok, c.cfg.ClientID); err != nil {
		t.Errorf("id token: %v", err)
	}
	if r.tok.RefreshToken == "" {
		t.Error("no refresh token")
	}
}

// cliDeviceEnv is the server of these tests: the real clock, and an
// interval of 1 s so the CLI's timer does not make the test slow.
func cliDeviceEnv(t *testing.T, backend string) (deviceEnv, string) {
	t.Helper()
	e := flowEnv{oauthEnv: newOAuthEnvWith(t, backend, withDeviceDeps(provider.DefaultDeviceCodeLimit,
		provider.DeviceDeps{Interval: time.Second})), email: "cli.user@device.example"}
	pageCreateUser(t, e.testEnv, e.email, pagePassword)
	d := deviceEnv{flowEnv: e}
	return d, d.deviceClient(t)
}

// TestDeviceCLIWithPages: x/oauth2 polls like a CLI while a browser
// without scripts (pageClient) opens verification_uri_complete, signs in
// and approves. The HTTP-level twin of TestBrowserDeviceFlow.
func TestDeviceCLIWithPages(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e, id := cliDeviceEnv(t, backend)
			cli := startCLI(t, e.Server.URL, id)
			b := newPageClient(t, e.testEnv)
			u, err := url.Parse(cli.auth.VerificationURIComplete)
			if err != nil {
				t.Fatal(err)
			}
			entry := b.get(u.RequestURI())
			toLogin := b.post("/device", url.Values{csrfField: {scrapeCSRF(t, entry.body)},
				"user_code": {scrapeUserCodeField(t, entry.body)}})
			signedIn := b.submit(toLogin.location(), "/login", url.Values{"email": {e.email}, "password": {pagePassword},
				"next": {"/device?user_code=" + cli.auth.UserCode}})
			consent := b.get(signedIn.location())
			done := b.post("/device/consent", url.Values{csrfField: {scrapeCSRF(t, consent.body)},
				"user_code": {cli.auth.UserCode}, "action": {"approve"}})
			pageWantStatus(t, "approve", done, http.StatusOK)
			cli.wait(t, e)
		})
	}
}

var deviceFieldRE = regexp.MustCompile(`(?s)name="user_code"[^>]*value="([^"]*)"`)

// scrapeUserCodeField returns the prefilled value of the entry form.
func scrapeUserCodeField(t *testing.T, body string) string {
	t.Helper()
	m := deviceFieldRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no user_code field:\n%s", body)
	}
	return m[1]
}

// TestBrowserDeviceFlow: x/oauth2 polls like a CLI while Chromium opens
// the verification URI, enters the code in lower case without its dash,
// signs in and approves. Runs when USER_REGISTRY_TEST_CHROMIUM names the
// browser binary.
func TestBrowserDeviceFlow(t *testing.T) {
	ctx := newChromium(t)
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e, id := cliDeviceEnv(t, backend)
			cli := startCLI(t, e.Server.URL, id)
			do, _ := browserSteps(t, ctx)
			typed := cli.auth.UserCode[:4] + cli.auth.UserCode[5:]
			do("enter the code",
				chromedp.Navigate(cli.auth.VerificationURI),
				chromedp.WaitVisible(css("#device-form")),
				chromedp.SendKeys(css("#user_code"), string(toLowerASCII(typed))),
				chromedp.Click(css("#device-continue")),
				chromedp.WaitVisible(css("#login-form")),
			)
			do("sign in → consent",
				chromedp.SendKeys(css("#email"), e.email),
				chromedp.SendKeys(css("#password"), pagePassword),
				chromedp.Click(css("#sign-in")),
				chromedp.WaitVisible(css("#device-consent-form")),
			)
			code, err := chromedp.Run(ctx, chromedp.Text(css("#device-code")))
			if err != nil || code != cli.auth.UserCode {
				t.Fatalf("consent page shows code %q (%v), want %q", code, err, cli.auth.UserCode)
			}
			do("approve", chromedp.Click(css("#device-approve")), chromedp.WaitNotPresent(css("#device-consent-form")),
				chromedp.WaitVisible(css("h1")))
			heading, err := chromedp.Run(ctx, chromedp.Text(css("h1")))
			if err != nil || heading != "Device connected" {
				t.Fatalf("after approval: %q %v", heading, err)
			}
			cli.wait(t, e)
			// Sign out for the next backend's run in this browser.
			do("log out", chromedp.Navigate(e.Server.URL+"/account"), chromedp.WaitVisible(css("#logout")),
				chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
		})
	}
}

func toLowerASCII(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}
