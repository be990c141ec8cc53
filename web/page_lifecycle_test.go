package web

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

var pageTokenFieldRE = regexp.MustCompile(`name="token" value="([^"]+)"`)

func TestForgotAndResetPages(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newMailEnv(t, b, "")
			signup(t, env.Handler, "ann@example.com")
			old := newPageClient(t, env.testEnv)
			old.signIn("ann@example.com", testPassword)

			p := newPageClient(t, env.testEnv)
			login := p.get("/login")
			pageWantBody(t, "login", login, `href="/password/forgot"`, "Forgot password?")
			forgot := p.get("/password/forgot")
			pageWantStatus(t, "forgot page", forgot, 200)
			pageWantBody(t, "forgot page", forgot, "Find your account", `name="email"`, "Send reset link")

			pageWantStatus(t, "forgot without CSRF", p.post("/password/forgot", url.Values{"email": {"ann@example.com"}}), 403)
			for _, addr := range []string{"ann@example.com", "nobody@example.com"} {
				r := p.submit("/password/forgot", "/password/forgot", url.Values{"email": {addr}})
				pageWantStatus(t, "forgot "+addr, r, 200)
				pageWantBody(t, "forgot "+addr, r, msgForgotSent)
			}
			tok := env.token(t, "ann@example.com", "/password/reset")

			resetPath := "/password/reset?token=" + tok
			page := p.get(resetPath)
			pageWantStatus(t, "reset page", page, 200)
			if m := pageTokenFieldRE.FindStringSubmatch(page.body); m == nil || m[1] != tok {
				t.Fatalf("reset form lacks the token field:\n%s", page.body)
			}
			pageWantStatus(t, "reset page without token", p.get("/password/reset"), 400)

			const newPw = "brand new secret 77"
			form := func(pw, confirm string) url.Values {
				return url.Values{"token": {tok}, "password": {pw}, "confirm_pass": {confirm}}
			}
			pageWantStatus(t, "reset without CSRF", p.post("/password/reset", form(newPw, newPw)), 403)
			pageWantStatus(t, "reset mismatch", p.submit(resetPath, "/password/reset", form(newPw, newPw+"x")), 400)
			weak := p.submit(resetPath, "/password/reset", form("short", "short"))
			pageWantStatus(t, "reset weak", weak, 400)
			pageWantBody(t, "reset weak", weak, `name="token"`)
			done := p.submit(resetPath, "/password/reset", form(newPw, newPw))
			if done.status != http.StatusSeeOther || done.location() != "/login?reset=1" {
				t.Fatalf("reset = %d → %q:\n%s", done.status, done.location(), done.body)
			}
			pageWantBody(t, "login after reset", p.get("/login?reset=1"), "Your password has been updated")
			again := p.submit(resetPath, "/password/reset", form(newPw, newPw))
			pageWantStatus(t, "reused link", again, 400)
			pageWantBody(t, "reused link", again, msgBadLink)

			// The session signed in before the reset is dead (SEC-54).
			if r := old.get("/account"); r.status != http.StatusSeeOther {
				t.Fatalf("old session after reset: %d", r.status)
			}
			p.signIn("ann@example.com", newPw)
			env.noSecretsLogged(t, tok, newPw)
		})
	}
}

func TestAccountPageLifecycle(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newMailEnv(t, b, "")
			signup(t, env.Handler, "bob@example.com")
			other := newPageClient(t, env.testEnv)
			other.signIn("bob@example.com", testPassword)
			p := newPageClient(t, env.testEnv)
			p.signIn("bob@example.com", testPassword)

			acct := p.get("/account")
			pageWantBody(t, "account", acct, "not verified", "Resend verification email",
				`action="/password"`, `name="current_password"`, `name="new_password"`, `action="/account/delete"`)
			r := p.submit("/account", "/verify-email/resend", url.Values{})
			pageWantStatus(t, "resend", r, 200)
			pageWantBody(t, "resend", r, msgVerificationSent)
			if n := len(env.mails(t, "bob@example.com")); n != 2 {
				t.Fatalf("%d mails, want 2", n)
			}
			wantMessage(t, call(t, env.Handler, "GET", "/verify-email?token="+env.token(t, "bob@example.com", "/verify-email"), ""), 200, "Email verified")
			if r := p.get("/account"); r.status != 200 || pageUnverifiedRE.MatchString(r.body) {
				t.Fatalf("account after verifying: %d, still shows the notice", r.status)
			}

			// Change password: wrong current → 401; the browser keeps its
			// (re-issued) session, the other one dies.
			const newPw = "brand new secret 77"
			pageWantStatus(t, "change wrong current", p.submit("/account", "/password",
				url.Values{"current_password": {"wrong password 1"}, "new_password": {newPw}, "confirm_pass": {newPw}}), 401)
			pageWantStatus(t, "change without CSRF", p.post("/password",
				url.Values{"current_password": {testPassword}, "new_password": {newPw}}), 403)
			ch := p.submit("/account", "/password", url.Values{"current_password": {testPassword}, "new_password": {newPw}, "confirm_pass": {newPw}})
			if ch.status != http.StatusSeeOther || ch.location() != "/account?password=changed" {
				t.Fatalf("change = %d → %q:\n%s", ch.status, ch.location(), ch.body)
			}
			after := p.get("/account?password=changed")
			pageWantStatus(t, "account after change", after, 200)
			pageWantBody(t, "account after change", after, msgPasswordChanged)
			if r := other.get("/account"); r.status != http.StatusSeeOther {
				t.Fatalf("other session after change: %d", r.status)
			}
			wantTokens(t, call(t, env.Handler, "POST", "/login", jsonBody(map[string]string{"email": "bob@example.com", "password": newPw})))

			// Delete account.
			pageWantStatus(t, "delete wrong password", p.submit("/account", "/account/delete", url.Values{"password": {"wrong password 1"}}), 401)
			del := p.submit("/account", "/account/delete", url.Values{"password": {newPw}})
			if del.status != http.StatusSeeOther || del.location() != "/login?deleted=1" {
				t.Fatalf("delete = %d → %q:\n%s", del.status, del.location(), del.body)
			}
			pageWantBody(t, "login after delete", p.get("/login?deleted=1"), "Your account has been deleted.")
			if r := p.get("/account"); r.status != http.StatusSeeOther {
				t.Fatalf("account after delete: %d", r.status)
			}
			wantMessage(t, call(t, env.Handler, "POST", "/login", jsonBody(map[string]string{"email": "bob@example.com", "password": newPw})), 401, "User does not exist.")
		})
	}
}

var pageUnverifiedRE = regexp.MustCompile(`id="unverified"`)

// TestLifecycleWithoutMailer: with no mailer users are active at once,
// the mail routes do not exist, and the account page still changes
// passwords.
func TestLifecycleWithoutMailer(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	signup(t, h, "cy@example.com")
	access, _ := login(t, h, "cy@example.com", testPassword)
	if !meActivated(t, h, access) {
		t.Fatal("not activated at signup without a mailer")
	}
	wantMessage(t, call(t, h, "POST", "/password/forgot", `{"email":"cy@example.com"}`), 404, "Not found")
	wantMessage(t, call(t, h, "GET", "/verify-email?token=x", ""), 404, "Not found")
	p := newPageClient(t, env)
	p.signIn("cy@example.com", testPassword)
	if pageUnverifiedRE.MatchString(p.get("/account").body) {
		t.Fatal("verification notice without a mailer")
	}
	const newPw = "brand new secret 77"
	ch := p.submit("/account", "/password", url.Values{"current_password": {testPassword}, "new_password": {newPw}})
	if ch.status != http.StatusSeeOther {
		t.Fatalf("change = %d:\n%s", ch.status, ch.body)
	}
	pageWantStatus(t, "account after change", p.get("/account"), 200)
}
