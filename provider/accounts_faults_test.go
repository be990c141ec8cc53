package provider_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// downUsers is a UserStore whose backend is unreachable.
type downUsers struct{ storage.UserStore }

func (downUsers) UserByEmail(context.Context, string) (storage.User, error) {
	return storage.User{}, storage.ErrUnavailable
}
func (downUsers) CreateUser(context.Context, *storage.User) error { return storage.ErrUnavailable }

// downRevocations is a RevocationStore whose backend is unreachable.
type downRevocations struct{ storage.RevocationStore }

func (downRevocations) Revoke(context.Context, string, time.Time) error {
	return storage.ErrUnavailable
}
func (downRevocations) NotBefore(context.Context, string) (time.Time, string, error) {
	return time.Time{}, "", storage.ErrUnavailable
}
func (downRevocations) SetNotBefore(context.Context, string, time.Time, time.Time, string) error {
	return storage.ErrUnavailable
}

// SEC-18: outages surface as storage.ErrUnavailable (503), never as a
// success or an authentication answer.
func TestAccountsStoreDown(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	u := e.signup(t, "ann@example.com", annPW)
	p := e.login(t, "ann@example.com", annPW)
	c := mustVerify(t, e, p.AccessToken)

	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.Sleep = e.clk.Sleep
	d := e.deps(cfg)
	d.Users = downUsers{e.store}
	usersDown, err := provider.NewAccounts(d)
	if err != nil {
		t.Fatal(err)
	}
	d = e.deps(cfg)
	d.Revocations = downRevocations{e.store}
	revDown, err := provider.NewAccounts(d)
	if err != nil {
		t.Fatal(err)
	}
	d = e.deps(cfg)
	d.Rate = failingRate{}
	rateDown, err := provider.NewAccounts(d)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		err  error
	}{
		{"login, users down", func() error { _, err := usersDown.Login(ctx, "ann@example.com", annPW); return err }()},
		{"signup, users down", func() error {
			_, err := usersDown.Signup(ctx, provider.SignupInput{Email: "new@example.com", Password: annPW})
			return err
		}()},
		{"login, rate store down", func() error { _, err := rateDown.Login(ctx, "ann@example.com", annPW); return err }()},
		{"login, revocations down", func() error { _, err := revDown.Login(ctx, "ann@example.com", annPW); return err }()},
		{"refresh, revocations down", func() error { _, err := revDown.Refresh(ctx, p.RefreshToken); return err }()},
		{"logout, revocations down", revDown.Logout(ctx, c)},
		{"logout-all, revocations down", revDown.LogoutAll(ctx, u.ID)},
	}
	for _, ch := range checks {
		if !errors.Is(ch.err, storage.ErrUnavailable) {
			t.Errorf("%s: err = %v, want storage.ErrUnavailable", ch.name, ch.err)
		}
		if errors.Is(ch.err, provider.ErrUnauthenticated) || errors.Is(ch.err, provider.ErrUnknownUser) {
			t.Errorf("%s: outage reported as an auth failure: %v", ch.name, ch.err)
		}
	}
}

// SEC-43: passwords and tokens never reach the log.
func TestAccountsLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newAcctEnv(t)
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.Sleep = e.clk.Sleep
	d := e.deps(cfg)
	d.Log = log
	acc, err := provider.NewAccounts(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const pw, pw2 = "canary-password-1", "canary-password-2"
	u, err := acc.Signup(ctx, provider.SignupInput{Email: "ann@example.com", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = acc.Login(ctx, "ann@example.com", "canary-wrong-password")
	p, err := acc.Login(ctx, "ann@example.com", pw)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := acc.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = acc.Refresh(ctx, p.RefreshToken) // reuse: logged as a warning
	p3, err := acc.Login(ctx, "ann@example.com", pw)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := acc.Verify(ctx, p3.AccessToken)
	e.clk.Advance(time.Millisecond)
	if err := acc.ChangePassword(ctx, c, pw, pw2); err != nil {
		t.Fatal(err)
	}
	if err := acc.DeleteAccount(ctx, u.ID, pw2); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if out == "" {
		t.Fatal("nothing logged; the test would prove nothing")
	}
	for _, secret := range []string{pw, pw2, "canary-wrong-password", p.AccessToken, p.RefreshToken,
		p2.RefreshToken, p3.AccessToken, p3.RefreshToken, secretPart(p.RefreshToken)} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains a secret %q:\n%s", secret[:min(12, len(secret))], out)
		}
	}
}

func secretPart(refresh string) string {
	_, s, _ := strings.Cut(refresh, ".")
	return s
}
