package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/provider"
)

// mailEnv is a testEnv with a mailer: a directory mailer in a temp dir
// behind a real MailQueue (Flush makes it synchronous for the test), and
// the server's and the lifecycle's logs captured for the canary checks.
type mailEnv struct {
	*testEnv
	dir   string
	queue *provider.MailQueue
	logs  *syncBuffer
	// clock is the lifecycle's clock (token expiry); it starts at the
	// wall clock, which the stores use.
	clock *mailClock
}

type mailClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *mailClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }

func (c *mailClock) Advance(d time.Duration) { c.mu.Lock(); c.off += d; c.mu.Unlock() }

// newMailEnv builds the server with a mailer (users not activated at
// signup). The lifecycle needs the Accounts that newTestEnv builds, so the
// handler is rebuilt with it and served by a second httptest server, which
// replaces env.Server (links in the mails name the first one's address as
// the issuer; tests follow their path and query).
func newMailEnv(t *testing.T, backend, addressLimit string, opts ...envOption) *mailEnv {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := func(c *Config, a *provider.AccountsConfig) { a.ActivateAtSignup = false; c.Log = log }
	dir := t.TempDir()
	dm, err := provider.NewDirMailer(dir, "User Registry <noreply@id.example.test>", nil)
	if err != nil {
		t.Fatal(err)
	}
	q := provider.NewMailQueue(dm, 0, 2, log)
	t.Cleanup(func() { q.Close(context.Background()) })
	clk := &mailClock{}
	var links *provider.MailLinks
	mail := func(env *testEnv, issuer string) *provider.MailLinks {
		links, err = provider.NewMailLinks(provider.MailLinkDeps{Tokens: env.Eph, Mail: q, BaseURL: issuer, Now: clk.Now, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return links
	}
	env := newTestEnvMail(t, backend, mail, append([]envOption{base}, opts...)...)
	lc, err := provider.NewLifecycle(provider.LifecycleDeps{
		Accounts: env.Accounts, Links: links, Rate: env.Eph.Rate(), AddressLimit: addressLimit, Now: clk.Now, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Config.Lifecycle = lc
	env.Handler = New(env.Config)
	env.Server = httptest.NewServer(env.Handler)
	t.Cleanup(env.Server.Close)
	return &mailEnv{testEnv: env, dir: dir, queue: q, logs: logs, clock: clk}
}

var mailLinkRE = regexp.MustCompile(`http://[^/\s]+(/verify-email|/password/reset)\?token=([A-Za-z0-9_-]+)`)

// mails returns the parsed mails to addr, oldest first, after the queue
// has delivered everything enqueued so far.
func (m *mailEnv) mails(t *testing.T, addr string) []string {
	t.Helper()
	m.queue.Flush()
	files, _ := filepath.Glob(filepath.Join(m.dir, "*.eml"))
	sort.Strings(files)
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if msg.Header.Get("To") == addr {
			out = append(out, string(b))
		}
	}
	return out
}

// token returns the token of the newest link to path in a mail to addr.
func (m *mailEnv) token(t *testing.T, addr, path string) string {
	t.Helper()
	ms := m.mails(t, addr)
	for i := len(ms) - 1; i >= 0; i-- {
		if l := mailLinkRE.FindStringSubmatch(ms[i]); l != nil && l[1] == path {
			return l[2]
		}
	}
	t.Fatalf("no %s link mailed to %s (%d mails)", path, addr, len(ms))
	return ""
}

func (m *mailEnv) noSecretsLogged(t *testing.T, secrets ...string) {
	t.Helper()
	logs := m.logs.String()
	if logs == "" {
		t.Fatal("nothing logged; the canary proves nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Fatalf("secret %q in the logs:\n%s", s, logs)
		}
	}
}

func meActivated(t *testing.T, h http.Handler, access string) bool {
	t.Helper()
	r := call(t, h, "GET", "/me", "", withToken(access))
	if r.Status != http.StatusOK {
		t.Fatalf("/me = %d %s", r.Status, r.Raw)
	}
	return r.Body["is_activated"] == true
}

var msgBadLink = provider.Message(provider.ErrBadMailToken)

func TestVerifyEmailFlow(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newMailEnv(t, b, "")
			h := env.Handler
			signup(t, h, "ann@example.com")
			access, _ := login(t, h, "ann@example.com", testPassword)
			if meActivated(t, h, access) {
				t.Fatal("activated before verifying")
			}
			tok := env.token(t, "ann@example.com", "/verify-email")
			wantMessage(t, call(t, h, "GET", "/verify-email?token="+tok, ""), 200, "Email verified")
			if !meActivated(t, h, access) {
				t.Fatal("not activated after verifying")
			}
			wantMessage(t, call(t, h, "GET", "/verify-email?token="+tok, ""), 400, msgBadLink)
			wantMessage(t, call(t, h, "GET", "/verify-email", ""), 400, msgBadLink)
			wantMessage(t, call(t, h, "GET", "/verify-email?token="+strings.Repeat("x", 5000), ""), 400, msgBadLink)

			// A browser gets a page.
			signup(t, h, "bob@example.com")
			tok = env.token(t, "bob@example.com", "/verify-email")
			p := newPageClient(t, env.testEnv)
			p.header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
			pg := p.get("/verify-email?token=" + tok)
			pageWantStatus(t, "verify page", pg, 200)
			pageWantBody(t, "verify page", pg, "Email verified")
			pg = p.get("/verify-email?token=" + tok)
			pageWantStatus(t, "used link page", pg, 400)
			pageWantBody(t, "used link page", pg, msgBadLink)
			env.noSecretsLogged(t, tok)
		})
	}
}

func TestMailTokenPurposesAndExpiry(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newMailEnv(t, b, "0")
			h := env.Handler
			signup(t, h, "ann@example.com")
			verifyTok := env.token(t, "ann@example.com", "/verify-email")
			wantMessage(t, call(t, h, "POST", "/password/forgot", `{"email":"ann@example.com"}`), 202, msgForgotSent)
			resetTok := env.token(t, "ann@example.com", "/password/reset")

			wantMessage(t, call(t, h, "GET", "/verify-email?token="+resetTok, ""), 400, msgBadLink)
			wantMessage(t, call(t, h, "POST", "/password/reset", jsonBody(map[string]string{"token": verifyTok, "password": "brand new secret 77"})), 400, msgBadLink)

			// Expiry: reset links live 30 min, verification links 24 h.
			env.clock.Advance(31 * time.Minute)
			wantMessage(t, call(t, h, "POST", "/password/reset", jsonBody(map[string]string{"token": resetTok, "password": "brand new secret 77"})), 400, msgBadLink)
			env.clock.Advance(24 * time.Hour)
			wantMessage(t, call(t, h, "GET", "/verify-email?token="+verifyTok, ""), 400, msgBadLink)
			env.noSecretsLogged(t, verifyTok, resetTok)
		})
	}
}

func TestForgotAndResendSameAnswer(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newMailEnv(t, b, "")
			h := env.Handler
			signup(t, h, "known@example.com")
			for _, tc := range []struct{ path, msg string }{
				{"/password/forgot", msgForgotSent},
				{"/verify-email/resend", msgResendSent},
			} {
				var raws []string
				for _, addr := range []string{"known@example.com", "unknown@example.com", "KNOWN@Example.COM", "not-an-address"} {
					r := call(t, h, "POST", tc.path, jsonBody(map[string]string{"email": addr}))
					wantMessage(t, r, 202, tc.msg)
					raws = append(raws, r.Raw)
				}
				for _, raw := range raws[1:] {
					if raw != raws[0] {
						t.Fatalf("%s: bodies differ: %q vs %q", tc.path, raws[0], raw)
					}
				}
				wantMessage(t, call(t, h, "POST", tc.path, `{"email":""}`), 400, msgEmailMissing)
				wantMessagePrefix(t, call(t, h, "POST", tc.path, `{"email":"a@b.c","x":1}`), 400, "")
				wantMessagePrefix(t, call(t, h, "POST", tc.path, `{"email":"a@b.c"}`, withCT("text/plain")), 415, "")
			}
			// Only the real user got mail: signup, 2 resets, 2 resends.
			if n := len(env.mails(t, "known@example.com")); n != 5 {
				t.Fatalf("%d mails to the user, want 5", n)
			}
			if n := len(env.mails(t, "unknown@example.com")); n != 0 {
				t.Fatalf("%d mails to an unknown address", n)
			}
		})
	}
}

func TestResetPasswordFlow(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newMailEnv(t, b, "")
			h := env.Handler
			signup(t, h, "dan@example.com")
			access, refresh := login(t, h, "dan@example.com", testPassword)
			wantMessage(t, call(t, h, "POST", "/password/forgot", `{"email":"dan@example.com"}`), 202, msgForgotSent)
			tok := env.token(t, "dan@example.com", "/password/reset")
			const newPw = "brand new secret 77"

			reset := func(tok, pw string) apiResp {
				return call(t, h, "POST", "/password/reset", jsonBody(map[string]string{"token": tok, "password": pw}))
			}
			wantMessagePrefix(t, reset(tok, "short"), 400, "")
			wantMessage(t, reset("", newPw), 400, msgResetFieldsMis)
			wantMessage(t, reset(tok, newPw), 200, "Password updated")
			wantMessage(t, reset(tok, "another secret 88"), 400, msgBadLink)

			// Every earlier token is dead; the old password too.
			if r := call(t, h, "GET", "/me", "", withToken(access)); r.Status != 401 {
				t.Fatalf("old access token after reset: %d %s", r.Status, r.Raw)
			}
			if r := call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh})); r.Status != 401 {
				t.Fatalf("old refresh token after reset: %d %s", r.Status, r.Raw)
			}
			wantMessage(t, call(t, h, "POST", "/login", jsonBody(map[string]string{"email": "dan@example.com", "password": testPassword})), 401, "Wrong password.")
			access, _ = login(t, h, "dan@example.com", newPw)
			if !meActivated(t, h, access) {
				t.Fatal("a reset did not mark the email verified")
			}
			env.noSecretsLogged(t, tok, newPw, testPassword, access, refresh)
		})
	}
}

func TestRequireVerifiedEmail(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newMailEnv(t, b, "", func(_ *Config, a *provider.AccountsConfig) { a.RequireVerified = true })
			h := env.Handler
			signup(t, h, "eve@example.com")
			creds := jsonBody(map[string]string{"email": "eve@example.com", "password": testPassword})
			wantMessage(t, call(t, h, "POST", "/login", creds), 403, "Please verify your email address.")
			wantMessage(t, call(t, h, "GET", "/verify-email?token="+env.token(t, "eve@example.com", "/verify-email"), ""), 200, "Email verified")
			wantTokens(t, call(t, h, "POST", "/login", creds))
		})
	}
}

func TestLifecycleRateLimits(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newMailEnv(t, b, "2/1h")
			h := env.Handler
			for _, path := range []string{"/password/forgot", "/verify-email/resend"} {
				for _, addr := range []string{"someone@example.com", "other@example.com"} {
					body := jsonBody(map[string]string{"email": addr})
					for range 2 {
						if r := call(t, h, "POST", path, body); r.Status != 202 {
							t.Fatalf("%s %s: %d %s", path, addr, r.Status, r.Raw)
						}
					}
					r := call(t, h, "POST", path, body)
					if r.Status != 429 || r.Header.Get("Retry-After") == "" {
						t.Fatalf("%s %s third request: %d %s", path, addr, r.Status, r.Raw)
					}
				}
			}
			ipEnv := newMailEnv(t, b, "0", func(c *Config, _ *provider.AccountsConfig) { c.IPLimit = envLimiter(c, "2/1m") })
			for i := range 3 {
				r := call(t, ipEnv.Handler, "POST", "/password/forgot", jsonBody(map[string]string{"email": "x" + string(rune('a'+i)) + "@example.com"}), withRemote("192.0.2.7:1234"))
				if i < 2 && r.Status != 202 || i == 2 && r.Status != 429 {
					t.Fatalf("request %d from one IP: %d %s", i, r.Status, r.Raw)
				}
			}
		})
	}
}
