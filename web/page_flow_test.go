package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"user-registry/provider"
	"user-registry/storage"
)

func TestPagesRender(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	b := newPageClient(t, env)
	tests := []struct {
		path   string
		status int
		texts  []string
	}{
		{"/login", 200, []string{"Sign in", `href="/signup"`, "Sign up", `name="email"`, `name="password"`,
			`href="/password/forgot"`, "Forgot password?", `name="csrf_token"`, "User Registry"}},
		{"/signup", 200, []string{"Sign up now", `name="email"`, `name="phone_num"`, `name="password"`,
			`name="confirm_pass"`, `name="discoverable"`, `name="csrf_token"`}},
		{"/login?signed_up=1", 200, []string{"User created successfully"}},
		{"/login?logged_out=1", 200, []string{"You have been logged out."}},
		{"/login?next=%2Foauth2%2Fauthorize%3Fclient_id%3Dc1%26state%3Ds", 200,
			[]string{`name="next" value="/oauth2/authorize?client_id=c1&amp;state=s"`}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			p := b.get(tc.path)
			pageWantStatus(t, "GET "+tc.path, p, tc.status)
			pageWantBody(t, tc.path, p, tc.texts...)
			checkPageHeaders(t, p)
			if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := p.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}

// staticScriptRE matches the page's link to passkeys.js.
var staticScriptRE = regexp.MustCompile(`<script src="/static/passkeys\.js\?v=[0-9a-f]{12}" defer></script>`)

// checkPageHeaders asserts SEC-41 headers and that the page has no inline
// script or style (the CSP would block them anyway).
func checkPageHeaders(t *testing.T, p pageResp) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
	}
	for k, v := range want {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	low := strings.ToLower(p.body)
	// The one script a page may load is our static passkeys.js, empty
	// inside (CSP script-src 'self', SPEC §10); any other <script is
	// inline or foreign.
	if staticScriptRE.MatchString(low) && !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q does not allow our script", csp)
	}
	low = staticScriptRE.ReplaceAllString(low, "")
	for _, bad := range []string{"<script", " style=", "<style", "javascript:", " onclick=", " onsubmit="} {
		if strings.Contains(low, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestPagesRedirectSignedOut(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	b := newPageClient(t, env)
	for _, path := range []string{"/", "/account"} {
		p := b.get(path)
		if p.status != http.StatusSeeOther || p.location() != "/login" {
			t.Errorf("GET %s = %d → %q, want 303 → /login", path, p.status, p.location())
		}
	}
}

func TestStylesheet(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	b := newPageClient(t, env)
	login := b.get("/login")
	i := strings.Index(login.body, `href="/static/style.css?v=`)
	if i < 0 {
		t.Fatalf("login page does not link the versioned stylesheet:\n%s", login.body)
	}
	p := b.get("/static/style.css")
	pageWantStatus(t, "GET /static/style.css", p, 200)
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := p.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("Cache-Control = %q", cc)
	}
	if !strings.Contains(p.body, ".card") {
		t.Error("stylesheet body looks wrong")
	}
}

// TestPageFlow: sign up → login → account → update phone → logout, on
// every backend, with a cookie jar and CSRF tokens scraped from the forms.
func TestPageFlow(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			env := newTestEnv(t, backend)
			b := newPageClient(t, env)
			email := "Flow.User@Example.COM"

			p := b.submit("/signup", "/signup", url.Values{
				"email": {email}, "phone_num": {"+14155550100"}, "password": {pagePassword},
				"confirm_pass": {pagePassword}, "discoverable": {"1"},
			})
			if p.status != http.StatusSeeOther || p.location() != "/login?signed_up=1" {
				t.Fatalf("signup = %d → %q; body:\n%s", p.status, p.location(), p.body)
			}
			p = b.get(p.location())
			pageWantBody(t, "login after signup", p, "User created successfully")

			b.signIn(email, pagePassword)
			if p = b.get("/"); p.status != http.StatusSeeOther || p.location() != "/account" {
				t.Errorf("GET / signed in = %d → %q, want 303 → /account", p.status, p.location())
			}
			if p = b.get("/login"); p.status != http.StatusSeeOther || p.location() != "/account" {
				t.Errorf("GET /login signed in = %d → %q, want 303 → /account", p.status, p.location())
			}
			p = b.get("/account")
			pageWantStatus(t, "GET /account", p, 200)
			pageWantBody(t, "account", p, "Flow.User@example.com", "+14155550100", "Log out", "Log out everywhere",
				`action="/update"`, `action="/logout"`, `action="/logout/all"`)
			checkPageHeaders(t, p)

			p = b.submit("/account", "/update", url.Values{"phone_num": {"+44 20 7946 0958"}, "has_discoverable": {"1"}, "discoverable": {"1"}})
			pageWantStatus(t, "update", p, 200)
			pageWantBody(t, "update", p, "Phone number updated", "+442079460958")
			p = b.submit("/account", "/update", url.Values{"phone_num": {"12"}})
			pageWantStatus(t, "bad phone", p, 400)
			pageWantBody(t, "bad phone", p, "flash-error")
			p = b.submit("/account", "/update", url.Values{"phone_num": {"+442079460958"}})
			pageWantStatus(t, "no change", p, 200)
			pageWantBody(t, "no change", p, "Nothing to be updated")

			p = b.submit("/account", "/logout", url.Values{})
			if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login") {
				t.Fatalf("logout = %d → %q", p.status, p.location())
			}
			if c := pageSetCookies(p)[sessionCookiePlain]; c == nil || c.MaxAge >= 0 {
				t.Errorf("logout did not clear the session cookie: %+v", c)
			}
			if p = b.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
				t.Errorf("account after logout = %d → %q", p.status, p.location())
			}
		})
	}
}

// TestPageLogoutKillsStoredSession: a copy of the cookie taken before
// logout no longer works (the session is deleted, not only the cookie).
func TestPageLogoutKillsStoredSession(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	pageCreateUser(t, env, "copy@example.com", pagePassword)
	b := newPageClient(t, env)
	b.signIn("copy@example.com", pagePassword)
	u, _ := url.Parse(env.Server.URL)
	stolen := b.c.Jar.Cookies(u)
	b.submit("/account", "/logout", url.Values{})
	thief := newPageClient(t, env)
	thief.c.Jar.SetCookies(u, stolen)
	if p := thief.get("/account"); p.status != http.StatusSeeOther {
		t.Fatalf("old cookie still signed in: %d", p.status)
	}
}

func TestPageLogoutEverywhere(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			env := newTestEnv(t, backend)
			pageCreateUser(t, env, "everywhere@example.com", pagePassword)
			pageCreateUser(t, env, "bystander@example.com", pagePassword)
			laptop, phone, other := newPageClient(t, env), newPageClient(t, env), newPageClient(t, env)
			laptop.signIn("everywhere@example.com", pagePassword)
			phone.signIn("everywhere@example.com", pagePassword)
			other.signIn("bystander@example.com", pagePassword)

			p := laptop.submit("/account", "/logout/all", url.Values{})
			if p.status != http.StatusSeeOther || p.location() != "/login?logged_out=all" {
				t.Fatalf("logout/all = %d → %q; body:\n%s", p.status, p.location(), p.body)
			}
			for name, c := range map[string]*pageClient{"laptop": laptop, "phone": phone} {
				if p := c.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
					t.Errorf("%s still signed in: %d", name, p.status)
				}
			}
			if p := other.get("/account"); p.status != 200 {
				t.Errorf("another user's session died: %d", p.status)
			}
			// Signing in again afterwards works at once.
			phone.signIn("everywhere@example.com", pagePassword)
			if p := phone.get("/account"); p.status != 200 {
				t.Errorf("new session after logout everywhere: %d", p.status)
			}
		})
	}
}

func TestPageSignupErrors(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	if err := env.DB.PutDomain(context.Background(), storage.DomainRecord{Domain: "blocked.test", BelongsTo: storage.DomainBlocked}); err != nil {
		t.Fatal(err)
	}
	pageCreateUser(t, env, "taken@example.com", pagePassword)
	tests := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"bad email", url.Values{"email": {"not-an-email"}, "password": {pagePassword}, "confirm_pass": {pagePassword}}, 400, "email"},
		{"mismatch", url.Values{"email": {"new@example.com"}, "password": {pagePassword}, "confirm_pass": {"other-password-1"}}, 400, "Passwords don&#39;t match!"},
		{"common password", url.Values{"email": {"new@example.com"}, "password": {"password123"}, "confirm_pass": {"password123"}}, 400, "flash-error"},
		{"bad phone", url.Values{"email": {"new@example.com"}, "phone_num": {"12"}, "password": {pagePassword}, "confirm_pass": {pagePassword}}, 400, "flash-error"},
		{"blocked", url.Values{"email": {"a@mail.blocked.test"}, "password": {pagePassword}, "confirm_pass": {pagePassword}}, 401, "You are not allowed to register."},
		{"exists", url.Values{"email": {"TAKEN@example.com"}, "password": {pagePassword}, "confirm_pass": {pagePassword}}, 202, "User already exists. Please log in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newPageClient(t, env)
			tc.form.Set("phone_num", tc.form.Get("phone_num"))
			p := b.submit("/signup", "/signup", tc.form)
			pageWantStatus(t, tc.name, p, tc.status)
			pageWantBody(t, tc.name, p, "Sign up now", tc.text, `name="csrf_token"`)
			if strings.Contains(p.body, pagePassword) {
				t.Error("the re-rendered form echoes the password")
			}
		})
	}
}

func TestPageLoginErrors(t *testing.T) {
	for _, generic := range []bool{false, true} {
		t.Run(map[bool]string{false: "seed", true: "generic"}[generic], func(t *testing.T) {
			env := newTestEnv(t, "sqlite+memory", func(c *Config, a *provider.AccountsConfig) {
				c.GenericLoginErrors = generic
				a.LoginLimit = "3/15m"
			})
			pageCreateUser(t, env, "known@example.com", pagePassword)
			unknown, wrong := "User does not exist.", "Wrong password."
			if generic {
				unknown, wrong = provider.GenericLoginMessage, provider.GenericLoginMessage
			}
			tests := []struct {
				name, email, password string
				status                int
				text                  string
			}{
				{"missing", "", "", 400, "Please enter your email and password."},
				{"unknown", "nobody@example.com", pagePassword, 401, unknown},
				{"wrong", "known@example.com", "wrong-password-1", 401, wrong},
				{"wrong again", "known@example.com", "wrong-password-2", 401, wrong},
				{"limited", "known@example.com", "wrong-password-3", 401, wrong},
				{"locked", "known@example.com", pagePassword, 429, "Too many requests"},
			}
			b := newPageClient(t, env)
			for _, tc := range tests {
				p := b.submit("/login", "/login", url.Values{"email": {tc.email}, "password": {tc.password}})
				pageWantStatus(t, tc.name, p, tc.status)
				pageWantBody(t, tc.name, p, "Sign in", tc.text)
				if tc.status == 429 && p.header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
		})
	}
}

// TestPageLoginIPLimit: form posts count against the per-IP budget too.
func TestPageLoginIPLimit(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory", func(c *Config, _ *provider.AccountsConfig) { c.IPLimit = envLimiter(c, "2/1m") })
	b := newPageClient(t, env)
	var last pageResp
	for range 3 {
		last = b.submit("/login", "/login", url.Values{"email": {"x@example.com"}, "password": {pagePassword}})
	}
	pageWantStatus(t, "third login", last, 429)
	pageWantBody(t, "third login", last, "Too many requests")
}
