package provider_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// outbox is a synchronous mail queue for tests: Enqueue records the mail.
type outbox struct {
	mu   sync.Mutex
	mail []provider.Mail
}

func (o *outbox) Enqueue(m provider.Mail) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mail = append(o.mail, m)
	return true
}

func (o *outbox) count() int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.mail) }

var linkTokenRE = regexp.MustCompile(`https://id\.example\.test(/[a-z/-]+)\?token=([A-Za-z0-9_-]+)`)

// last returns the path and token of the link in the last mail to addr.
func (o *outbox) last(t *testing.T, addr string) (path, token string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.mail) - 1; i >= 0; i-- {
		if o.mail[i].To == addr {
			m := linkTokenRE.FindStringSubmatch(o.mail[i].Text)
			if m == nil {
				t.Fatalf("no link in mail:\n%s", o.mail[i].Text)
			}
			return m[1], m[2]
		}
	}
	t.Fatalf("no mail to %s", addr)
	return "", ""
}

type lcEnv struct {
	*acctEnv
	lc    *provider.Lifecycle
	links *provider.MailLinks
	box   *outbox
	log   *bytes.Buffer
}

// newLCEnv wires the lifecycle as serve does with a mailer: users are not
// activated at signup, and Accounts sends the verification mail through
// the lifecycle's links.
func newLCEnv(t *testing.T, limit string) *lcEnv {
	t.Helper()
	e := newAcctEnv(t)
	box := &outbox{}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	links, err := provider.NewMailLinks(provider.MailLinkDeps{
		Tokens: e.store, Mail: box, BaseURL: acctIssuer + "/", Now: e.clk.Now, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.Sleep, cfg.ActivateAtSignup = e.clk.Sleep, false
	d := e.deps(cfg)
	d.Verification, d.Log = links, log
	if e.acc, err = provider.NewAccounts(d); err != nil {
		t.Fatal(err)
	}
	lc, err := provider.NewLifecycle(provider.LifecycleDeps{
		Accounts: e.acc, Links: links, Rate: newClockRate(e.clk.Now), AddressLimit: limit, Now: e.clk.Now, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &lcEnv{acctEnv: e, lc: lc, links: links, box: box, log: &buf}
}

// signupMail signs a user up; the signup queues the verification mail.
func (e *lcEnv) signupMail(t *testing.T, email string) storage.User {
	t.Helper()
	n := e.box.count()
	u := e.signup(t, email, "correct horse battery 9")
	if u.IsActivated {
		t.Fatal("user activated at signup with a mailer")
	}
	if e.box.count() != n+1 {
		t.Fatal("signup queued no verification mail")
	}
	return u
}

func TestVerifyEmail(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t, "0")
	u := e.signupMail(t, "ann@example.com")
	path, tok := e.box.last(t, "ann@example.com")
	if path != "/verify-email" || len(tok) < 22 {
		t.Fatalf("link %s token %q", path, tok)
	}
	got, err := e.lc.VerifyEmail(ctx, tok)
	if err != nil || !got.IsActivated || got.ID != u.ID {
		t.Fatalf("verify = %+v, %v", got, err)
	}
	if me, _ := e.acc.Me(ctx, u.ID); !me.IsActivated {
		t.Fatal("not stored as verified")
	}
	if _, err := e.lc.VerifyEmail(ctx, tok); !errors.Is(err, provider.ErrBadMailToken) {
		t.Fatalf("reuse: %v", err)
	}
	// A verified user gets no more verification mail.
	n := e.box.count()
	if err := e.links.SendVerification(ctx, got); err != nil || e.box.count() != n {
		t.Fatalf("mail to a verified user: %v", err)
	}
	if err := e.lc.ResendVerification(ctx, "ann@example.com"); err != nil || e.box.count() != n {
		t.Fatalf("resend to a verified user: %v", err)
	}
}

func TestMailTokensRejected(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t, "0")
	e.signupMail(t, "bob@example.com")
	_, verifyTok := e.box.last(t, "bob@example.com")
	if err := e.lc.ForgotPassword(ctx, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	path, resetTok := e.box.last(t, "bob@example.com")
	if path != "/password/reset" {
		t.Fatalf("reset link path %s", path)
	}
	e.signupMail(t, "old@example.com")
	_, expiredVerify := e.box.last(t, "old@example.com")
	if err := e.lc.ForgotPassword(ctx, "old@example.com"); err != nil {
		t.Fatal(err)
	}
	_, expiredReset := e.box.last(t, "old@example.com")
	e.clk.Advance(30*time.Minute + time.Second) // reset tokens expire, verification ones not yet

	tests := []struct {
		name string
		run  func() error
	}{
		{"reset token used to verify", func() error { _, err := e.lc.VerifyEmail(ctx, resetTok); return err }},
		{"verify token used to reset", func() error {
			_, err := e.lc.ResetPassword(ctx, verifyTok, "new password 12345")
			return err
		}},
		{"expired reset token", func() error {
			_, err := e.lc.ResetPassword(ctx, expiredReset, "new password 12345")
			return err
		}},
		{"empty token", func() error { _, err := e.lc.VerifyEmail(ctx, ""); return err }},
		{"unknown token", func() error { _, err := e.lc.VerifyEmail(ctx, strings.Repeat("A", 43)); return err }},
		{"overlong token", func() error { _, err := e.lc.VerifyEmail(ctx, strings.Repeat("A", 500)); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, provider.ErrBadMailToken) {
				t.Fatalf("err = %v, want ErrBadMailToken", err)
			}
		})
	}
	// The cross-purpose attempts above consumed nothing: a token is
	// consumed only under its own purpose.
	if _, err := e.lc.VerifyEmail(ctx, verifyTok); err != nil {
		t.Fatalf("verify token after a reset attempt with it: %v", err)
	}
	e.clk.Advance(24 * time.Hour)
	if _, err := e.lc.VerifyEmail(ctx, expiredVerify); !errors.Is(err, provider.ErrBadMailToken) {
		t.Fatalf("expired verify token: %v", err)
	}
}

func TestForgotSameForEveryAddress(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t, "0")
	e.signupMail(t, "carol@example.com")
	n := e.box.count()
	for _, addr := range []string{"nobody@example.com", "not an address", "CAROL@example.com"} {
		if err := e.lc.ForgotPassword(ctx, addr); err != nil {
			t.Fatalf("forgot %q: %v", addr, err)
		}
		if err := e.lc.ResendVerification(ctx, addr); err != nil {
			t.Fatalf("resend %q: %v", addr, err)
		}
	}
	if got := e.box.count() - n; got != 2 {
		t.Fatalf("%d mails, want 2 (only to the real user)", got)
	}
}

func TestResetPassword(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t, "0")
	u := e.signupMail(t, "dan@example.com")
	pair := e.login(t, "dan@example.com", "correct horse battery 9")
	if err := e.lc.ForgotPassword(ctx, "dan@example.com"); err != nil {
		t.Fatal(err)
	}
	_, tok := e.box.last(t, "dan@example.com")
	// A weak password is refused without burning the link.
	if _, err := e.lc.ResetPassword(ctx, tok, "short"); !errors.Is(err, provider.ErrInvalidInput) {
		t.Fatalf("weak password: %v", err)
	}
	e.clk.Advance(2 * time.Second)
	got, err := e.lc.ResetPassword(ctx, tok, "brand new secret 77")
	if err != nil || !got.IsActivated {
		t.Fatalf("reset = %+v, %v", got, err)
	}
	if _, err := e.lc.ResetPassword(ctx, tok, "another secret 88"); !errors.Is(err, provider.ErrBadMailToken) {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := e.acc.Verify(ctx, pair.AccessToken); !errors.Is(err, provider.ErrUnauthenticated) {
		t.Fatalf("old access token after reset: %v", err)
	}
	if _, err := e.acc.Login(ctx, "dan@example.com", "correct horse battery 9"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("old password: %v", err)
	}
	e.login(t, "dan@example.com", "brand new secret 77")
	if me, _ := e.acc.Me(ctx, u.ID); !me.IsActivated {
		t.Fatal("reset did not mark the email verified")
	}
}

func TestMailAddressLimit(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t, "2/1h")
	for _, addr := range []string{"eve@example.com", "ghost@example.com"} {
		for i := range 3 {
			err := e.lc.ForgotPassword(ctx, addr)
			if i < 2 && err != nil {
				t.Fatalf("%s request %d: %v", addr, i, err)
			}
			var rl *provider.RateLimitError
			if i == 2 && !errors.As(err, &rl) {
				t.Fatalf("%s request %d: %v, want rate limited", addr, i, err)
			}
		}
	}
	e.clk.Advance(time.Hour)
	if err := e.lc.ForgotPassword(ctx, "eve@example.com"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t, "0")
	u := e.signupMail(t, "fay@example.com")
	if _, err := e.acc.SetPassword(ctx, u.ID, "wrong password 1", "brand new secret 77"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("wrong current: %v", err)
	}
	if _, err := e.acc.SetPassword(ctx, u.ID, "correct horse battery 9", "x"); !errors.Is(err, provider.ErrInvalidInput) {
		t.Fatalf("weak new: %v", err)
	}
	if _, err := e.acc.SetPassword(ctx, u.ID, "correct horse battery 9", "brand new secret 77"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Second)
	e.login(t, "fay@example.com", "brand new secret 77")
}

// TestMailTokensNotLogged is the SEC-43/52 canary: no token reaches the log.
func TestMailTokensNotLogged(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t, "0")
	e.signupMail(t, "gil@example.com")
	_, vt := e.box.last(t, "gil@example.com")
	e.lc.VerifyEmail(ctx, vt)
	e.lc.ForgotPassword(ctx, "gil@example.com")
	_, rt := e.box.last(t, "gil@example.com")
	e.lc.ResetPassword(ctx, rt, "brand new secret 77")
	e.lc.ResetPassword(ctx, rt, "brand new secret 77")
	if e.log.Len() == 0 {
		t.Fatal("nothing logged; the canary proves nothing")
	}
	for _, tok := range []string{vt, rt} {
		if strings.Contains(e.log.String(), tok) {
			t.Fatalf("token in log:\n%s", e.log)
		}
	}
}
