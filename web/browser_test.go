package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFlow drives a real Chromium through the pages: the CSP, the
// CSRF origin check (Sec-Fetch-Site, Origin under Referrer-Policy
// same-origin), the cookies and the redirects all meet a real browser
// here. It runs when USER_REGISTRY_TEST_CHROMIUM names the browser binary
// (CI: /usr/bin/chromium from Debian's chromium package). With
// USER_REGISTRY_SCREENSHOT set, a PNG of the login page is written there
// (and one of the account page beside it, suffixed "-account").
func TestBrowserFlow(t *testing.T) {
	ctx := newChromium(t, chromedp.WindowSize(1200, 900))
	env := newTestEnv(t, "sqlite+memory")

	const (
		email    = "browser.user@example.com"
		phone    = "+14155550100"
		newPhone = "+442079460958"
	)
	base := env.Server.URL
	// do runs steps that return nothing; read runs one that returns a
	// value. Both stop the test with the step's name on failure.
	do, read := browserSteps(t, ctx)
	want := func(what, got, sub string) {
		t.Helper()
		if !strings.Contains(got, sub) {
			t.Errorf("%s = %q, want %q", what, got, sub)
		}
	}

	// The login page; the stylesheet loaded under the CSP (the card has
	// its rounded corners).
	do("open login", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#login-form")))
	want("card corner radius", read("style", chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.card')).borderTopLeftRadius`)), "10px")
	if path := os.Getenv("USER_REGISTRY_SCREENSHOT"); path != "" {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		writeShot(t, path, shot)
	}

	// "Sign up" link → the Sign up now form → back on /login with the flash.
	do("sign up",
		chromedp.Click(css("#signup-link")),
		chromedp.WaitVisible(css("#signup-form")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#phone_num"), phone),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.SendKeys(css("#confirm_pass"), pagePassword),
		chromedp.Click(css("#discoverable")),
		chromedp.Click(css("#sign-up")),
		chromedp.WaitVisible(css("#login-form")),
	)
	want("signup flash", read("flash", chromedp.Text(css(".flash-success"))), "User created successfully")
	want("after signup", read("location", chromedp.Location()), base+"/login?signed_up=1")

	do("sign in",
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), pagePassword),
		chromedp.Click(css("#sign-in")),
		chromedp.WaitVisible(css("#account-email")),
	)
	want("account email", read("email", chromedp.Text(css("#account-email"))), email)
	want("account phone", read("phone", chromedp.Text(css("#account-phone"))), phone)

	do("change phone",
		// SetValue replaces the pre-filled number (SetValue "" then typing
		// fails in this chromedp: an empty result reads as a mismatch).
		chromedp.SetValue(css("#phone_num"), newPhone),
		chromedp.Click(css("#update")),
		chromedp.WaitVisible(css(".flash-success")),
	)
	want("update flash", read("flash", chromedp.Text(css(".flash-success"))), "Phone number updated")
	want("new phone", read("phone", chromedp.Text(css("#account-phone"))), newPhone)
	if path := os.Getenv("USER_REGISTRY_SCREENSHOT"); path != "" {
		if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			ext := filepath.Ext(path)
			writeShot(t, strings.TrimSuffix(path, ext)+"-account"+ext, shot)
		}
	}

	do("log out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-form")))
	want("after logout", read("location", chromedp.Location()), base+"/login?logged_out=1")
	want("logout flash", read("flash", chromedp.Text(css(".flash-success"))), "logged out")

	// The session is gone: /account sends the browser to the login page.
	do("account after logout", chromedp.Navigate(base+"/account"), chromedp.WaitVisible(css("#login-form")))
	if loc := read("location", chromedp.Location()); loc != base+"/login" {
		t.Errorf("account after logout landed on %q", loc)
	}
}

func writeShot(t *testing.T, path string, png []byte) {
	t.Helper()
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot written to %s", path)
}

// newChromium starts the Chromium named by USER_REGISTRY_TEST_CHROMIUM
// (the test is skipped without it) and returns a tab's context, closed at
// the end of the test.
func newChromium(t *testing.T, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	bin := os.Getenv("USER_REGISTRY_TEST_CHROMIUM")
	if bin == "" {
		t.Skip("USER_REGISTRY_TEST_CHROMIUM not set")
	}
	opts = append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// /dev/shm is small in containers; Chrome crashes when it fills.
		chromedp.Flag("disable-dev-shm-usage", true),
	}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelTab)
	return ctx
}

// browserSteps returns the step runners of a browser test in the tab ctx:
// do runs actions and fails the test naming what when one fails; read
// returns what an action reads, failing the same way.
func browserSteps(t *testing.T, ctx context.Context) (do func(what string, steps ...chromedp.Action[chromedp.Void]), read func(what string, a chromedp.Action[string]) string) {
	do = func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	read = func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	return do, read
}

// css names the element a selector picks.
func css(s string) chromedp.CSS { return chromedp.CSS(s) }
