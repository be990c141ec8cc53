package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// TestPageCSRF: every form post without a valid token, or marked
// cross-site by the browser, is a 403 page (SEC-40), never a 500 and
// never the action.
func TestPageCSRF(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	pageCreateUser(t, env, "csrf@example.com", pagePassword)
	victim := newPageClient(t, env)
	victim.signIn("csrf@example.com", pagePassword)
	goodToken := scrapeCSRF(t, victim.get("/account").body)

	// A token of another session (the attacker's own account page).
	pageCreateUser(t, env, "attacker@example.com", pagePassword)
	attacker := newPageClient(t, env)
	attacker.signIn("attacker@example.com", pagePassword)
	foreignToken := scrapeCSRF(t, attacker.get("/account").body)
	// A signed-out token bound to the attacker's own pre-session cookie.
	anonToken := scrapeCSRF(t, newPageClient(t, env).get("/login").body)

	// token picks the token a case sends, given the right one for the
	// client that posts ("" sends none).
	tests := []struct {
		name   string
		token  func(right string) string
		header map[string]string
	}{
		{"missing", func(string) string { return "" }, nil},
		{"garbage", func(string) string { return "not-a-token" }, nil},
		{"truncated", func(r string) string { return r[:20] }, nil},
		{"other session", func(string) string { return foreignToken }, nil},
		{"other browser, signed out", func(string) string { return anonToken }, nil},
		{"cross-site fetch metadata", func(r string) string { return r }, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site subdomain", func(r string) string { return r }, map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"foreign origin", func(r string) string { return r }, map[string]string{"Origin": "https://evil.example"}},
		{"null origin", func(r string) string { return r }, map[string]string{"Origin": "null"}},
	}
	forms := map[string]url.Values{
		"/login":      {"email": {"csrf@example.com"}, "password": {pagePassword}},
		"/":           {"email": {"csrf@example.com"}, "password": {pagePassword}},
		"/signup":     {"email": {"csrf2@example.com"}, "password": {pagePassword}, "confirm_pass": {pagePassword}},
		"/update":     {"phone_num": {"+14155550199"}},
		"/logout":     {},
		"/logout/all": {},
	}
	// The pre-session forms are posted by a signed-out browser holding a
	// valid pre-session cookie and token, so only the case's defect fails.
	signedOut := newPageClient(t, env)
	anonRight := scrapeCSRF(t, signedOut.get("/login").body)
	for _, tc := range tests {
		for path, form := range forms {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				client, right := victim, goodToken
				if path == "/login" || path == "/" || path == "/signup" {
					client, right = signedOut, anonRight
				}
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if tok := tc.token(right); tok != "" {
					f.Set(csrfField, tok)
				}
				client.header = http.Header{}
				for k, v := range tc.header {
					client.header.Set(k, v)
				}
				p := client.post(path, f)
				pageWantStatus(t, "POST "+path, p, http.StatusForbidden)
				pageWantBody(t, "POST "+path, p, "Forbidden")
			})
		}
	}
	// Control: the right token without a defect passes.
	signedOut.header = http.Header{}
	p := signedOut.post("/login", url.Values{"email": {"csrf@example.com"}, "password": {pagePassword}, csrfField: {anonRight}})
	pageWantStatus(t, "control login", p, http.StatusSeeOther)
	victim.header = http.Header{}
	p = victim.get("/account")
	pageWantStatus(t, "account after the attacks", p, 200)
	if strings.Contains(p.body, "+14155550199") {
		t.Error("a forged /update changed the phone")
	}
	// And the real browser's same-origin posts pass the origin layer.
	victim.header.Set("Sec-Fetch-Site", "same-origin")
	victim.header.Set("Origin", env.Server.URL)
	p = victim.submit("/account", "/update", url.Values{"phone_num": {"+14155550123"}})
	pageWantStatus(t, "same-origin update", p, 200)
}

// TestPageJSONAndFormsSplit: the JSON API keeps the shared paths for
// non-form bodies; forms get the pages.
func TestPageJSONAndFormsSplit(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	resp, err := http.Post(env.Server.URL+"/login", "application/json", strings.NewReader(`{"email":"a@example.com","password":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("JSON POST /login answered %q", ct)
	}
	b := newPageClient(t, env)
	p := b.post("/login", url.Values{"email": {"a@example.com"}})
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || p.status != 403 {
		t.Errorf("form POST /login without token = %d %q", p.status, ct)
	}
}

func TestPageSessionCookie(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		opt     envOption
		proto   string // X-Forwarded-Proto sent
		cookie  string
		secure  bool
		csrfCk  string
		hostPfx bool
	}{
		{"plain http", nil, "", sessionCookiePlain, false, csrfCookiePlain, false},
		{"TLS config", func(c *Config, _ *provider.AccountsConfig) { c.TLS = true }, "", sessionCookieTLS, true, csrfCookieTLS, true},
		{"trusted proxy https", func(c *Config, _ *provider.AccountsConfig) { c.TrustedProxies = loopback }, "https", sessionCookieTLS, true, csrfCookieTLS, true},
		{"untrusted proxy header", nil, "https", sessionCookiePlain, false, csrfCookiePlain, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []envOption
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			env := newTestEnv(t, "sqlite+memory", opts...)
			pageCreateUser(t, env, "cookie@example.com", pagePassword)
			// Cookies are handled by hand: a jar would not return Secure
			// cookies over the test's plain http.
			b := newPageClient(t, env)
			b.c.Jar = nil
			if tc.proto != "" {
				b.header.Set("X-Forwarded-Proto", tc.proto)
			}
			login := b.get("/login")
			csrfC := pageSetCookies(login)[tc.csrfCk]
			if csrfC == nil {
				t.Fatalf("no %s cookie from GET /login: %v", tc.csrfCk, login.resp.Cookies())
			}
			checkCookie(t, csrfC, tc.secure)
			b.header.Set("Cookie", csrfC.Name+"="+csrfC.Value)
			p := b.post("/login", url.Values{"email": {"cookie@example.com"}, "password": {pagePassword}, csrfField: {scrapeCSRF(t, login.body)}})
			pageWantStatus(t, "login", p, http.StatusSeeOther)
			sc := pageSetCookies(p)[tc.cookie]
			if sc == nil {
				t.Fatalf("no %s cookie: %v", tc.cookie, p.resp.Cookies())
			}
			checkCookie(t, sc, tc.secure)
			if sc.MaxAge <= 0 || sc.MaxAge > int(provider.DefaultSessionTTL.Seconds()) {
				t.Errorf("Max-Age = %d", sc.MaxAge)
			}
			if len(sc.Value) < 43 { // 256 bits, base64url
				t.Errorf("session id too short: %q", sc.Value)
			}
			b.header.Set("Cookie", sc.Name+"="+sc.Value)
			pageWantStatus(t, "account", b.get("/account"), 200)
		})
	}
}

func checkCookie(t *testing.T, c *http.Cookie, secure bool) {
	t.Helper()
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != secure {
		t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q Domain=%q Secure=%v (want Secure=%v)",
			c.Name, c.HttpOnly, c.SameSite, c.Path, c.Domain, c.Secure, secure)
	}
	if strings.HasPrefix(c.Name, "__Host-") && !c.Secure {
		t.Errorf("%s without Secure", c.Name)
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/oauth2/authorize?client_id=c&state=s%20t", "/oauth2/authorize?client_id=c&state=s%20t", true},
		{"/oauth2/authorize", "/oauth2/authorize", true},
		{"", "", false},
		{"//evil.com", "", false},
		{"//evil.com/oauth2/authorize", "", false},
		{"https://evil.com", "", false},
		{"https://evil.com/oauth2/authorize", "", false},
		{"/\\evil.com", "", false},
		{"\\\\evil.com", "", false},
		{"/account", "", false},
		{"/oauth2/authorize/../../account", "", false},
		{"/oauth2/authorizeX", "", false},
		{"javascript:alert(1)", "", false},
		{"/oauth2/authorize\r\nSet-Cookie: x=y", "", false},
		{"/oauth2/authorize#frag", "/oauth2/authorize", true},
		{"///evil.com", "", false},
	}
	for _, tc := range tests {
		got, ok := safeNext(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("safeNext(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestPageLoginNext: after sign-in the browser goes to a pending
// /oauth2/authorize request, never anywhere else (no open redirect).
func TestPageLoginNext(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	pageCreateUser(t, env, "next@example.com", pagePassword)
	tests := []struct{ next, want string }{
		{"/oauth2/authorize?client_id=c1&state=xyz", "/oauth2/authorize?client_id=c1&state=xyz"},
		{"//evil.com", "/account"},
		{"https://evil.com", "/account"},
		{"/\\evil.com", "/account"},
		{"/admin/domains", "/account"},
	}
	for _, tc := range tests {
		t.Run(tc.next, func(t *testing.T) {
			b := newPageClient(t, env)
			login := b.get("/login?next=" + url.QueryEscape(tc.next))
			if tc.want == "/account" && strings.Contains(login.body, `name="next"`) {
				t.Errorf("login page carries a refused next")
			}
			// A forged form field is refused as well.
			p := b.post("/login", url.Values{"email": {"next@example.com"}, "password": {pagePassword},
				"next": {tc.next}, csrfField: {scrapeCSRF(t, login.body)}})
			if p.status != http.StatusSeeOther || p.location() != tc.want {
				t.Errorf("login = %d → %q, want 303 → %q", p.status, p.location(), tc.want)
			}
		})
	}
}

func TestLoginRedirect(t *testing.T) {
	tests := []struct{ next, want string }{
		{"/oauth2/authorize?client_id=c&redirect_uri=https%3A%2F%2Fapp%2Fcb", "/login?next=%2Foauth2%2Fauthorize%3Fclient_id%3Dc%26redirect_uri%3Dhttps%253A%252F%252Fapp%252Fcb"},
		{"https://evil.com", "/login"},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		loginRedirect(w, httptest.NewRequest(http.MethodGet, "/oauth2/authorize", nil), tc.next)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tc.want {
			t.Errorf("loginRedirect(%q) = %d %q, want %q", tc.next, w.Code, w.Header().Get("Location"), tc.want)
		}
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPageLogsNoSecrets: passwords, session cookies and CSRF tokens never
// reach the logs, even at debug level (SEC-43).
func TestPageLogsNoSecrets(t *testing.T) {
	var logs syncBuffer
	env := newTestEnv(t, "sqlite+memory", func(c *Config, _ *provider.AccountsConfig) {
		c.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	const canary = "Canary-Pw-4f7c1e9b"
	b := newPageClient(t, env)
	b.submit("/signup", "/signup", url.Values{"email": {"canary@example.com"}, "password": {canary}, "confirm_pass": {canary}})
	b.submit("/login", "/login", url.Values{"email": {"canary@example.com"}, "password": {canary + "x"}})
	b.signIn("canary@example.com", canary)
	token := scrapeCSRF(t, b.get("/account").body)
	b.submit("/account", "/logout", url.Values{})
	u, _ := url.Parse(env.Server.URL)
	secrets := []string{canary, token}
	for _, c := range b.c.Jar.Cookies(u) {
		secrets = append(secrets, c.Value)
	}
	out := logs.String()
	if out == "" {
		t.Fatal("no logs captured; the test would prove nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("logs contain a secret %q", s)
		}
	}
}

// failingSessions is a session store whose reads fail, as when Redis is
// down.
type failingSessions struct{ storage.SessionStore }

func (failingSessions) Session(context.Context, string) (storage.Session, error) {
	return storage.Session{}, storage.ErrUnavailable
}

// failingNotBefore is a revocation store whose not-before reads fail.
type failingNotBefore struct{ storage.RevocationStore }

func (failingNotBefore) NotBefore(context.Context, string) (time.Time, string, error) {
	return time.Time{}, "", storage.ErrUnavailable
}

// TestPageStoreDown: pages fail closed with a 503 page, never a 500 and
// never a signed-in page whose revocation state is unknown (SEC-18). The
// browser sessions get their own in-memory store, wrapped to fail; the
// accounts keep the environment's.
func TestPageStoreDown(t *testing.T) {
	tests := []struct {
		name string
		deps func(*memstore.Store) provider.SessionDeps
	}{
		{"session read fails", func(m *memstore.Store) provider.SessionDeps {
			return provider.SessionDeps{Store: failingSessions{m}, Revocations: m, Users: m}
		}},
		{"not-before read fails", func(m *memstore.Store) provider.SessionDeps {
			return provider.SessionDeps{Store: m, Revocations: failingNotBefore{m}, Users: m}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, "sqlite+memory", func(c *Config, _ *provider.AccountsConfig) {
				c.Sessions = mustSessions(t, tc.deps(memstore.New()))
			})
			pageCreateUser(t, env, "down@example.com", pagePassword)
			b := newPageClient(t, env)
			p := b.submit("/login", "/login", url.Values{"email": {"down@example.com"}, "password": {pagePassword}})
			pageWantStatus(t, "login", p, http.StatusSeeOther)
			for _, path := range []string{"/account", "/"} {
				p = b.get(path)
				pageWantStatus(t, path, p, http.StatusServiceUnavailable)
				pageWantBody(t, path, p, "temporarily unavailable")
			}
		})
	}
}

// TestPageBadForms: malformed or oversized form bodies are 400 pages, never
// a 500. (multipart/form-data is no page's: TestContentTypeDecidesHTML.)
func TestPageBadForms(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	tests := []struct {
		name, ctype, body string
		status            int
	}{
		{"bad escape", "application/x-www-form-urlencoded", "email=%zz", 400},
		{"too large", "application/x-www-form-urlencoded", "email=" + strings.Repeat("a", maxFormBytes+10), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(env.Server.URL+"/login", tc.ctype, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("= %d %q, want %d HTML", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status)
			}
		})
	}
}
