package web

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// TestBrowserPasskeys drives a real Chromium with a virtual authenticator
// (CDP WebAuthn: CTAP2, internal, resident keys, user verification)
// through the passkey pages and static/passkeys.js (SPEC §10): sign in
// with the password, add a passkey on the account page, sign out, sign in
// again with "Sign in with a passkey" alone, and once more with the
// password and "Use a passkey" on the two-factor page. WebAuthn needs a secure
// context and a domain as RP ID, so the browser uses http://localhost:PORT
// and the server RP ID localhost with that origin.
func TestBrowserPasskeys(t *testing.T) {
	ctx := newChromium(t, chromedp.WindowSize(1200, 900))
	env := newTestEnvRP(t, "sqlite+memory", nil, testRP{ID: "localhost", Localhost: true})
	const email = "passkey.user@example.com"
	pageCreateUser(t, env, email, pagePassword)
	_, port, _ := net.SplitHostPort(env.Server.Listener.Addr().String())
	base := "http://localhost:" + port
	do, read := browserSteps(t, ctx)

	do("virtual authenticator", chromedp.Navigate("about:blank"), virtualAuthenticator())

	do("sign in with the password",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#passkey-add-form")),
	)
	do("add a passkey",
		chromedp.SendKeys(css("#passkey_name"), "Virtual key"),
		chromedp.SendKeys(css("#passkey_password"), pagePassword),
		chromedp.Click(css("#add-passkey")),
		chromedp.WaitVisible(css("#passkey-list")),
	)
	if s := read("list", chromedp.Text(css("#passkey-list"))); !strings.Contains(s, "Virtual key") {
		t.Fatalf("passkeys listed: %q", s)
	}
	if f := read("flash", chromedp.Text(css(".flash-success"))); f != "Passkey added" {
		t.Fatalf("flash %q", f)
	}

	do("log out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
	do("sign in with a passkey",
		chromedp.WaitVisible(css("#passkey-sign-in")),
		chromedp.Click(css("#passkey-sign-in")),
		chromedp.WaitVisible(css("#account-email")),
	)
	if got := read("email", chromedp.Text(css("#account-email"))); got != email {
		t.Fatalf("signed in as %q", got)
	}

	// The password, then the passkey as the second factor.
	do("log out again", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
	do("password",
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#use-passkey")),
	)
	do("use a passkey", chromedp.Click(css("#use-passkey")), chromedp.WaitVisible(css("#account-email")))
	if got := read("email", chromedp.Text(css("#account-email"))); got != email {
		t.Fatalf("signed in as %q", got)
	}
}

// virtualAuthenticator enables CDP WebAuthn on the page and adds a platform
// authenticator that holds resident keys and verifies its user without
// asking.
func virtualAuthenticator() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	})
}
