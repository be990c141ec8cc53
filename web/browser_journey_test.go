package web

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserSecondFactorJourney is the whole page flow of SPEC §10 in one
// Chromium session with a virtual authenticator: sign up through the
// "Sign up now" form → enable TOTP (the key read from the page) → sign out
// → sign in with the password and a code → add a passkey → sign out →
// sign in with the passkey alone.
func TestBrowserSecondFactorJourney(t *testing.T) {
	ctx := newChromium(t, chromedp.WindowSize(1200, 900))
	env := newTestEnvRP(t, "sqlite+memory", nil, testRP{ID: "localhost", Localhost: true})
	const email, phone = "journey.user@example.com", "+14155550123"
	_, port, _ := net.SplitHostPort(env.Server.Listener.Addr().String())
	base := "http://localhost:" + port
	do, read := browserSteps(t, ctx)
	signedInAs := func(what string) {
		t.Helper()
		if got := read(what, chromedp.Text(css("#account-email"))); got != email {
			t.Fatalf("%s: signed in as %q", what, got)
		}
	}

	do("virtual authenticator", chromedp.Navigate("about:blank"), virtualAuthenticator())
	do("sign up",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.Click(css("#signup-link")),
		chromedp.WaitVisible(css("#signup-form")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#phone_num"), phone),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.SendKeys(css("#confirm_pass"), pagePassword),
		chromedp.Click(css("#sign-up")),
		chromedp.WaitVisible(css("#login-form")),
	)
	if f := read("signup flash", chromedp.Text(css(".flash-success"))); !strings.HasPrefix(f, "User created successfully") {
		t.Fatalf("signup flash %q", f)
	}
	do("sign in with the password",
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#enable-totp")),
	)

	do("enable TOTP",
		chromedp.SendKeys(css("#totp_password"), pagePassword),
		chromedp.Click(css("#enable-totp")),
		chromedp.WaitVisible(css("#totp-secret")),
	)
	secret := strings.TrimSpace(read("secret", chromedp.Text(css("#totp-secret"))))
	now := time.Now()
	do("confirm TOTP",
		chromedp.SendKeys(css("#totp_code"), totpCode(t, secret, now)),
		chromedp.Click(css("#confirm-totp")),
		chromedp.WaitVisible(css("#recovery-codes")),
	)

	do("sign out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
	do("password, then a code",
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#mfa-form")),
		// The next time step: the enrolment's step is used up (SEC-55).
		chromedp.SendKeys(css("#code"), totpCode(t, secret, now.Add(30*time.Second))),
		chromedp.Click(css("#verify-code")),
		chromedp.WaitVisible(css("#passkey-add-form")),
	)
	signedInAs("after password and code")

	do("add a passkey",
		chromedp.SendKeys(css("#passkey_name"), "Journey key"),
		chromedp.SendKeys(css("#passkey_password"), pagePassword),
		chromedp.Click(css("#add-passkey")),
		chromedp.WaitVisible(css("#passkey-list")),
	)
	if s := read("passkeys", chromedp.Text(css("#passkey-list"))); !strings.Contains(s, "Journey key") {
		t.Fatalf("passkeys listed: %q", s)
	}

	do("sign out again", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
	do("sign in with the passkey alone",
		chromedp.WaitVisible(css("#passkey-sign-in")),
		chromedp.Click(css("#passkey-sign-in")),
		chromedp.WaitVisible(css("#account-email")),
	)
	signedInAs("after the passkey alone")
}
