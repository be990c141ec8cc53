package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTOTP drives a real Chromium through the second-factor pages
// (SPEC §10): sign in, set up an authenticator app on the account page
// (the QR code drawn, the key read from the page), see the recovery codes
// once, sign out, and sign in with the password and a code.
func TestBrowserTOTP(t *testing.T) {
	ctx := newChromium(t, chromedp.WindowSize(1200, 900))
	env := newTestEnv(t, "sqlite+memory")
	const email = "totp.user@example.com"
	pageCreateUser(t, env, email, pagePassword)
	base := env.Server.URL
	do, read := browserSteps(t, ctx)
	signIn := func() {
		t.Helper()
		do("sign in",
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(css("#login-form")),
			chromedp.SendKeys(css("#email"), email),
			chromedp.SendKeys(css("#password"), pagePassword),
			chromedp.Click(css("#sign-in")),
		)
	}

	signIn()
	do("account", chromedp.WaitVisible(css("#enable-totp")))
	do("set up TOTP",
		chromedp.SendKeys(css("#totp_password"), pagePassword),
		chromedp.Click(css("#enable-totp")),
		chromedp.WaitVisible(css("#totp-secret")),
	)
	secret := strings.TrimSpace(read("secret", chromedp.Text(css("#totp-secret"))))
	if len(secret) < 32 {
		t.Fatalf("key on the page %q", secret)
	}
	if w := read("QR width", chromedp.Evaluate[string](`String(document.querySelector('#totp-qr svg').getBoundingClientRect().width)`)); w == "0" {
		t.Fatal("the QR code is not drawn")
	}
	do("confirm",
		chromedp.SendKeys(css("#totp_code"), totpCode(t, secret, time.Now())),
		chromedp.Click(css("#confirm-totp")),
		chromedp.WaitVisible(css("#recovery-codes")),
	)
	if n := read("codes", chromedp.Evaluate[string](`String(document.querySelectorAll('#recovery-codes li').length)`)); n != "10" {
		t.Fatalf("%s recovery codes shown", n)
	}
	if s := read("status", chromedp.Text(css("#totp-status"))); !strings.Contains(s, "on") {
		t.Fatalf("status %q", s)
	}

	do("log out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
	signIn()
	do("two-factor page", chromedp.WaitVisible(css("#mfa-form")))
	if h := read("heading", chromedp.Text(css("h1"))); h != "Two-factor authentication" {
		t.Fatalf("heading %q", h)
	}
	do("code",
		chromedp.SendKeys(css("#code"), totpCode(t, secret, time.Now().Add(30*time.Second))),
		chromedp.Click(css("#verify-code")),
		chromedp.WaitVisible(css("#account-email")),
	)
	if got := read("email", chromedp.Text(css("#account-email"))); got != email {
		t.Fatalf("signed in as %q", got)
	}
}
