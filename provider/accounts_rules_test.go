package provider_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
)

// TestDeleteAccountForgetsConsents: deleting an account removes the
// user's consents, and only theirs.
func TestDeleteAccountForgetsConsents(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	ann := e.signup(t, "ann@example.com", annPW)
	bob := e.signup(t, "bob@example.com", annPW)
	for _, uid := range []string{ann.ID, bob.ID} {
		for _, client := range []string{"app-1", "app-2"} {
			c := storage.Consent{UserID: uid, ClientID: client, Scopes: []string{"openid"}, ExpiresAt: e.clk.Now().Add(time.Hour)}
			if err := e.store.SaveConsent(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.acc.DeleteAccount(ctx, ann.ID, annPW); err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{"app-1", "app-2"} {
		if _, err := e.store.Consent(ctx, ann.ID, client); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("consent of the deleted user for %s: %v, want ErrNotFound", client, err)
		}
		if _, err := e.store.Consent(ctx, bob.ID, client); err != nil {
			t.Errorf("consent of another user for %s: %v", client, err)
		}
	}
}

// consentsDown is a session store whose consents cannot be deleted.
type consentsDown struct{ storage.SessionStore }

func (consentsDown) DeleteUserConsents(context.Context, string) error {
	return fmt.Errorf("test: consents gone: %w", storage.ErrUnavailable)
}

// TestDeleteAccountConsentsBestEffort: once the user is deleted, a failure
// to remove the consents is logged, not returned: the client would only
// retry into a 401.
func TestDeleteAccountConsentsBestEffort(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	var buf bytes.Buffer
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.Sleep = e.clk.Sleep
	d := e.deps(cfg)
	d.Consents = consentsDown{e.store}
	d.Log = slog.New(slog.NewTextHandler(&buf, nil))
	acc, err := provider.NewAccounts(d)
	if err != nil {
		t.Fatal(err)
	}
	u := e.signup(t, "ann@example.com", annPW)
	if err := acc.DeleteAccount(ctx, u.ID, annPW); err != nil {
		t.Fatalf("delete with the consent store down: %v", err)
	}
	if _, err := acc.Me(ctx, u.ID); !errors.Is(err, provider.ErrUnauthenticated) {
		t.Fatalf("user after delete: %v", err)
	}
	if !strings.Contains(buf.String(), "consents of deleted user not removed") || !strings.Contains(buf.String(), u.ID) {
		t.Fatalf("failure not logged:\n%s", buf.String())
	}
}

// TestSignupVerificationMail: Signup queues the verification mail only
// with a mailer and only for a user who is not activated at signup; the
// link in it verifies the address.
func TestSignupVerificationMail(t *testing.T) {
	tests := []struct {
		name     string
		mailer   bool
		activate bool // ActivateAtSignup
		mails    int
	}{
		{"no mailer", false, true, 0},
		{"no mailer, not activated", false, false, 0},
		{"mailer, activated at signup", true, true, 0},
		{"mailer, not activated", true, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAcctEnv(t)
			ctx := context.Background()
			box := &outbox{}
			links, err := provider.NewMailLinks(provider.MailLinkDeps{Tokens: e.store, Mail: box, BaseURL: acctIssuer, Now: e.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			cfg := provider.DefaultAccountsConfig(acctIssuer)
			cfg.Sleep, cfg.ActivateAtSignup = e.clk.Sleep, tc.activate
			d := e.deps(cfg)
			if tc.mailer {
				d.Verification = links
			}
			acc, err := provider.NewAccounts(d)
			if err != nil {
				t.Fatal(err)
			}
			u, err := acc.Signup(ctx, provider.SignupInput{Email: "ann@example.com", Password: annPW})
			if err != nil || u.IsActivated != tc.activate {
				t.Fatalf("signup = %+v, %v", u, err)
			}
			// A taken address sends nothing.
			if _, err := acc.Signup(ctx, provider.SignupInput{Email: "ann@example.com", Password: annPW}); !errors.Is(err, provider.ErrUserExists) {
				t.Fatalf("second signup: %v", err)
			}
			if got := box.count(); got != tc.mails {
				t.Fatalf("%d mails, want %d", got, tc.mails)
			}
			if tc.mails == 0 {
				return
			}
			path, tok := box.last(t, "ann@example.com")
			lc, err := provider.NewLifecycle(provider.LifecycleDeps{Accounts: acc, Links: links, AddressLimit: "0", Now: e.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			if v, err := lc.VerifyEmail(ctx, tok); path != "/verify-email" || err != nil || !v.IsActivated {
				t.Fatalf("link %s: %+v, %v", path, v, err)
			}
		})
	}
}

// oneTimeTokensDown is a session store that cannot store mail tokens.
type oneTimeTokensDown struct{ storage.SessionStore }

func (oneTimeTokensDown) SaveOneTimeToken(context.Context, storage.OneTimeToken) error {
	return fmt.Errorf("test: session store gone: %w", storage.ErrUnavailable)
}

// TestSignupMailFailureLogged: the account exists once the user is
// stored, so a verification link that cannot be stored fails the mail,
// logged, not the signup; the user can ask for another link.
func TestSignupMailFailureLogged(t *testing.T) {
	e := newAcctEnv(t)
	box := &outbox{}
	links, err := provider.NewMailLinks(provider.MailLinkDeps{Tokens: oneTimeTokensDown{e.store}, Mail: box, BaseURL: acctIssuer})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.Sleep, cfg.ActivateAtSignup = e.clk.Sleep, false
	d := e.deps(cfg)
	d.Verification, d.Log = links, slog.New(slog.NewTextHandler(&buf, nil))
	acc, err := provider.NewAccounts(d)
	if err != nil {
		t.Fatal(err)
	}
	u, err := acc.Signup(context.Background(), provider.SignupInput{Email: "ann@example.com", Password: annPW})
	if err != nil || u.ID == "" {
		t.Fatalf("signup = %+v, %v", u, err)
	}
	if box.count() != 0 || !strings.Contains(buf.String(), "verification mail not queued") {
		t.Fatalf("%d mails; log:\n%s", box.count(), buf.String())
	}
}

// TestFirstParty: only tokens of the login client are first-party; an
// app's token is refused with ErrForeignToken whatever else it carries.
func TestFirstParty(t *testing.T) {
	tests := []struct {
		name     string
		loginID  string // LoginClientID; "" is the default
		clientID string
		ok       bool
	}{
		{"login token", "", provider.DefaultLoginClientID, true},
		{"app token", "", "app-1", false},
		{"no client", "", "", false},
		{"case differs", "", "User-Registry", false},
		{"configured login client", "portal", "portal", true},
		{"default id, configured elsewhere", "portal", provider.DefaultLoginClientID, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAcctEnv(t, func(c *provider.AccountsConfig) { c.LoginClientID = tc.loginID })
			err := e.acc.FirstParty(keys.AccessClaims{Subject: "u-1", ClientID: tc.clientID, Email: "ann@example.com"})
			if tc.ok && err != nil {
				t.Fatalf("FirstParty = %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, provider.ErrForeignToken) {
				t.Fatalf("FirstParty = %v, want ErrForeignToken", err)
			}
		})
	}
}

// TestFirstPartyIssuedTokens: /login tokens pass, tokens issued to an app
// for the same user do not.
func TestFirstPartyIssuedTokens(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	u := e.signup(t, "ann@example.com", annPW)
	if err := e.acc.FirstParty(mustVerify(t, e, e.login(t, "ann@example.com", annPW).AccessToken)); err != nil {
		t.Fatalf("login token: %v", err)
	}
	app, err := e.acc.IssueTokensFor(ctx, u, provider.Grant{ClientID: "app-1", Scope: "openid email"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.acc.FirstParty(mustVerify(t, e, app.AccessToken)); !errors.Is(err, provider.ErrForeignToken) {
		t.Fatalf("app token: %v", err)
	}
}
