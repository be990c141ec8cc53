package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"user-registry/storage"
)

var (
	pageSecretRE   = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	pageMFATokenRE = regexp.MustCompile(`name="mfa_token" value="([^"]+)"`)
	pageCodeRE     = regexp.MustCompile(`<li><code>([0-9a-z-]{14})</code></li>`)
)

// scrape returns the first group of re in body, or fails the test.
func scrape(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s not in page:\n%s", re, body)
	}
	return m[1]
}

// TestPagesTOTP enables TOTP on the account page (the QR code and the key
// shown, the recovery codes once), signs out, signs in with the password,
// gets the two-factor page, refuses a wrong code, and signs in with the
// next code and then with a recovery code; the session remembers amr.
func TestPagesTOTP(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			pageCreateUser(t, env, "ann@example.com", testPassword)
			c := newPageClient(t, env)
			c.signIn("ann@example.com", testPassword)
			acct := c.get("/account")
			pageWantBody(t, "account", acct, `id="security"`, `id="enable-totp"`, `<section id="passkeys">`, `id="passkey-add-form"`)

			wrong := c.submit("/account", "/account/totp", url.Values{"password": {"wrong password 12"}})
			pageWantStatus(t, "enable with a wrong password", wrong, http.StatusUnauthorized)
			start := c.submit("/account", "/account/totp", url.Values{"password": {testPassword}})
			pageWantStatus(t, "enable", start, http.StatusOK)
			pageWantBody(t, "enrolment", start, `<svg xmlns="http://www.w3.org/2000/svg"`, `id="totp-qr"`)
			secret := scrape(t, pageSecretRE, start.body)
			bad := c.post("/account/totp/confirm", url.Values{csrfField: {scrapeCSRF(t, start.body)}, "code": {totpCode(t, secret, time.Now().Add(-time.Hour))}})
			pageWantStatus(t, "wrong first code", bad, http.StatusBadRequest)
			pageWantBody(t, "wrong first code", bad, "Wrong code.", secret)
			ok := c.post("/account/totp/confirm", url.Values{csrfField: {scrapeCSRF(t, bad.body)}, "code": {totpCode(t, secret, time.Now())}})
			pageWantStatus(t, "confirm", ok, http.StatusOK)
			pageWantBody(t, "confirm", ok, "Two-factor authentication enabled", `id="recovery-codes"`, `id="disable-totp"`)
			codes := pageCodeRE.FindAllStringSubmatch(ok.body, -1)
			if len(codes) != 10 {
				t.Fatalf("%d recovery codes on the page", len(codes))
			}
			// Shown once: the key and the codes are gone on the next visit.
			again := c.get("/account")
			if strings.Contains(again.body, secret) || strings.Contains(again.body, codes[0][1]) {
				t.Fatal("the key or a recovery code is shown again")
			}

			out := c.submit("/account", "/logout", url.Values{})
			pageWantStatus(t, "logout", out, http.StatusSeeOther)
			pw := c.submit("/login", "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
			pageWantStatus(t, "password", pw, http.StatusOK)
			pageWantBody(t, "two-factor page", pw, "Two-factor authentication", `id="code"`, `id="use-recovery-code"`)
			if strings.Contains(pw.body, `id="use-passkey"`) {
				t.Fatal("a passkey button for a user without passkeys")
			}
			tok := scrape(t, pageMFATokenRE, pw.body)
			no := c.post("/login/mfa", url.Values{csrfField: {scrapeCSRF(t, pw.body)}, "mfa_token": {tok}, "code": {"000000"}})
			pageWantStatus(t, "wrong code", no, http.StatusUnauthorized)
			pageWantBody(t, "wrong code", no, "Wrong code.")
			yes := c.post("/login/mfa", url.Values{csrfField: {scrapeCSRF(t, no.body)}, "mfa_token": {tok}, "code": {totpCode(t, secret, time.Now().Add(30*time.Second))}})
			if yes.status != http.StatusSeeOther || yes.location() != "/account" {
				t.Fatalf("right code = %d → %q", yes.status, yes.location())
			}
			pageWantBody(t, "signed in", c.get("/account"), `id="totp-status"`, "<strong>on</strong>")

			// A second browser signs in with a recovery code.
			d := newPageClient(t, env)
			pw = d.submit("/login", "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
			tok = scrape(t, pageMFATokenRE, pw.body)
			rc := d.post("/login/mfa", url.Values{csrfField: {scrapeCSRF(t, pw.body)}, "mfa_token": {tok}, "code": {codes[3][1]}})
			if rc.status != http.StatusSeeOther {
				t.Fatalf("recovery code = %d %s", rc.status, rc.body)
			}
			pageWantBody(t, "codes left", d.get("/account"), `id="recovery-left">9<`)
		})
	}
}

// TestPagesRequireMFA: a user of a domain that requires a second factor
// and has none is taken from the password straight to enrolment, and is
// signed in (with the recovery codes shown once) by the first code.
func TestPagesRequireMFA(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			if err := env.DB.PutDomain(context.Background(), storage.DomainRecord{Domain: "corp.example", RequireMFA: true}); err != nil {
				t.Fatal(err)
			}
			env.Policy.Invalidate()
			pageCreateUser(t, env, "kim@corp.example", testPassword)
			c := newPageClient(t, env)
			setup := c.submit("/login", "/login", url.Values{"email": {"kim@corp.example"}, "password": {testPassword}})
			pageWantStatus(t, "password", setup, http.StatusOK)
			pageWantBody(t, "enrolment", setup, "Set up two-factor authentication", `<svg xmlns="http://www.w3.org/2000/svg"`)
			if p := c.get("/account"); p.status != http.StatusSeeOther {
				t.Fatalf("signed in before enrolling: %d", p.status)
			}
			secret := scrape(t, pageSecretRE, setup.body)
			tok := scrape(t, pageMFATokenRE, setup.body)
			bad := c.post("/login/mfa/setup", url.Values{csrfField: {scrapeCSRF(t, setup.body)}, "mfa_token": {tok}, "code": {"000000"}})
			pageWantStatus(t, "wrong first code", bad, http.StatusBadRequest)
			pageWantBody(t, "wrong first code", bad, secret)
			done := c.post("/login/mfa/setup", url.Values{csrfField: {scrapeCSRF(t, bad.body)}, "mfa_token": {tok}, "code": {totpCode(t, secret, time.Now())}})
			pageWantStatus(t, "first code", done, http.StatusOK)
			if n := len(pageCodeRE.FindAllString(done.body, -1)); n != 10 {
				t.Fatalf("%d recovery codes shown", n)
			}
			acct := c.get("/account")
			pageWantStatus(t, "account", acct, http.StatusOK)
			pageWantBody(t, "account", acct, "<strong>on</strong>")
			// The last factor stays while the domain requires one.
			off := c.submit("/account", "/account/totp/disable", url.Values{"password": {testPassword}})
			pageWantStatus(t, "turn off the last factor", off, http.StatusConflict)
		})
	}
}
