package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var pagePasskeyTokenRE = regexp.MustCompile(`id="use-passkey" data-mfa-token="([^"]+)"`)

// TestPagesPasskeys drives the pages' passkey routes as passkeys.js does,
// with a software authenticator: add a passkey on the account page (the
// password asked), sign out, sign in passwordless from the login page,
// then with the password and "Use a passkey", and remove it. Posts without
// the page's CSRF token are refused with a JSON 403.
func TestPagesPasskeys(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			pageCreateUser(t, env, "ann@example.com", testPassword)
			c := newPageClient(t, env)
			key := newSoftKey(t, env)
			c.signIn("ann@example.com", testPassword)
			acct := c.get("/account")
			pageWantBody(t, "account", acct, `id="passkey-add-form"`, `You have no passkeys.`, `<script src="/static/passkeys.js?v=`)
			checkPageHeaders(t, acct)
			if js := c.get("/static/passkeys.js"); js.status != 200 || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") ||
				!strings.Contains(js.body, "navigator.credentials") {
				t.Fatalf("GET /static/passkeys.js = %d %q", js.status, js.header.Get("Content-Type"))
			}

			wrong := c.submit("/account", "/account/passkeys/begin", url.Values{"password": {"wrong password 12"}})
			pageWantStatus(t, "begin with a wrong password", wrong, http.StatusUnauthorized)
			if nocsrf := c.post("/account/passkeys/begin", url.Values{"password": {testPassword}}); nocsrf.status != 403 || !strings.Contains(nocsrf.body, `"message"`) {
				t.Fatalf("begin without a CSRF token = %d %s", nocsrf.status, nocsrf.body)
			}
			begin := c.submit("/account", "/account/passkeys/begin", url.Values{"password": {testPassword}})
			pageWantStatus(t, "begin", begin, http.StatusOK)
			fin := c.submit("/account", "/account/passkeys/finish", url.Values{"name": {"My laptop"}, "credential": {string(key.attest(t, begin.body))}})
			pageWantStatus(t, "finish", fin, http.StatusCreated)
			var created struct{ ID string }
			if err := json.Unmarshal([]byte(fin.body), &created); err != nil || created.ID == "" {
				t.Fatalf("finish body %s", fin.body)
			}
			pageWantBody(t, "account after adding", c.get("/account?passkey=added"), "Passkey added", "My laptop", `action="/account/passkeys/`+created.ID+`/delete"`,
				`id="passkey-recovery-codes-form"`)
			// A passkey is a factor: recovery codes can be had without TOTP.
			codes := c.submit("/account", "/account/recovery-codes", url.Values{"password": {testPassword}})
			pageWantStatus(t, "recovery codes", codes, http.StatusOK)
			pageWantBody(t, "recovery codes", codes, `id="recovery-codes"`)

			out := c.submit("/account", "/logout", url.Values{})
			pageWantStatus(t, "logout", out, http.StatusSeeOther)

			// Passwordless from the login page.
			login := c.get("/login")
			pageWantBody(t, "login", login, `id="passkey-sign-in"`, "Sign in with a passkey")
			checkPageHeaders(t, login)
			id, options := beginPasskeyLogin(t, env.Handler, "")
			form := url.Values{"login_id": {id}, "credential": {string(key.assert(t, options))}}
			if r := c.post("/login/passkey/session", form); r.status != 403 {
				t.Fatalf("session without a CSRF token = %d %s", r.status, r.body)
			}
			id, options = beginPasskeyLogin(t, env.Handler, "")
			done := c.submit("/login", "/login/passkey/session", url.Values{"login_id": {id}, "credential": {string(key.assert(t, options))}})
			pageWantStatus(t, "passwordless session", done, http.StatusOK)
			if !strings.Contains(done.body, `"redirect":"/account"`) {
				t.Fatalf("session answer %s", done.body)
			}
			pageWantStatus(t, "account signed in", c.get("/account"), http.StatusOK)
			pageWantStatus(t, "logout", c.submit("/account", "/logout", url.Values{}), http.StatusSeeOther)

			// The password, then "Use a passkey".
			step := c.submit("/login", "/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}})
			pageWantStatus(t, "password", step, http.StatusOK)
			pageWantBody(t, "two-factor page", step, "Use a passkey", `<script src="/static/passkeys.js?v=`)
			checkPageHeaders(t, step)
			if strings.Contains(step.body, `id="mfa-form"`) {
				t.Fatalf("a code field for a user without TOTP:\n%s", step.body)
			}
			m := pagePasskeyTokenRE.FindStringSubmatch(step.body)
			if m == nil {
				t.Fatalf("no mfa_token on the two-factor page:\n%s", step.body)
			}
			id, options = beginPasskeyLogin(t, env.Handler, m[1])
			done = c.post("/login/passkey/session", url.Values{csrfField: {scrapeCSRF(t, step.body)}, "login_id": {id}, "credential": {string(key.assert(t, options))}})
			pageWantStatus(t, "second-factor session", done, http.StatusOK)

			bad := c.submit("/account", "/account/passkeys/"+created.ID+"/delete", url.Values{"password": {"wrong password 12"}})
			pageWantStatus(t, "remove with a wrong password", bad, http.StatusUnauthorized)
			gone := c.submit("/account", "/account/passkeys/"+created.ID+"/delete", url.Values{"password": {testPassword}})
			pageWantStatus(t, "remove", gone, http.StatusOK)
			pageWantBody(t, "removed", gone, "Passkey removed", "You have no passkeys.")
		})
	}
}
