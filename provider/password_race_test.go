package provider_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"user-registry/provider"
	"user-registry/storage"
)

// interposedUsers is a user store that runs an armed step just before the
// next UpdateUser: another request committing in the window between the
// caller's read of the user and its write.
type interposedUsers struct {
	storage.UserStore
	mu     sync.Mutex
	before func()
}

func (u *interposedUsers) arm(f func()) { u.mu.Lock(); u.before = f; u.mu.Unlock() }

// armed reports whether the armed step is still waiting for a write.
func (u *interposedUsers) armed() bool { u.mu.Lock(); defer u.mu.Unlock(); return u.before != nil }

func (u *interposedUsers) UpdateUser(ctx context.Context, id string, c storage.UserChange) error {
	u.mu.Lock()
	f := u.before
	u.before = nil
	u.mu.Unlock()
	if f != nil {
		f()
	}
	return u.UserStore.UpdateUser(ctx, id, c)
}

// SEC-73: a password reset that commits between another request's read of
// the user and its write is what the next login checks. A login rehash, a
// password change (API or account page), /update and email verification
// all run with a reset interposed before their write.
func TestWritesKeepConcurrentReset(t *testing.T) {
	const (
		legacyPW = "Legacy-Pass1"
		resetPW  = "reset in between 42"
		newPW    = "a brand new secret"
	)
	ctx := context.Background()
	var links *provider.MailLinks // the current case's, set before its act runs
	tests := []struct {
		name    string
		legacy  bool // the user has a werkzeug hash (rehashed at login)
		act     func(t *testing.T, e *acctEnv, lc *provider.Lifecycle, box *outbox, u storage.User) error
		wantErr error
		old     []string // passwords that must not log in afterwards
		check   func(t *testing.T, got storage.User)
	}{
		{"login rehash", true, func(_ *testing.T, e *acctEnv, _ *provider.Lifecycle, _ *outbox, u storage.User) error {
			_, err := e.acc.Authenticate(ctx, u.Email, legacyPW)
			return err // the login itself stands
		}, nil, []string{legacyPW}, nil},
		{"password change", false, func(t *testing.T, e *acctEnv, _ *provider.Lifecycle, _ *outbox, u storage.User) error {
			c := mustVerify(t, e, e.login(t, u.Email, annPW).AccessToken)
			return e.acc.ChangePassword(ctx, c, annPW, newPW)
		}, provider.ErrWrongPassword, []string{annPW, newPW}, nil},
		{"account page password", false, func(_ *testing.T, e *acctEnv, _ *provider.Lifecycle, _ *outbox, u storage.User) error {
			_, err := e.acc.SetPassword(ctx, u.ID, annPW, newPW)
			return err
		}, provider.ErrWrongPassword, []string{annPW, newPW}, nil},
		{"update", false, func(_ *testing.T, e *acctEnv, _ *provider.Lifecycle, _ *outbox, u storage.User) error {
			_, _, err := e.acc.Update(ctx, u.ID, provider.UpdateInput{Phone: acctStr("+49 30 123456"), Discoverable: acctBool(true)})
			return err
		}, nil, []string{annPW}, func(t *testing.T, got storage.User) {
			if got.PhoneNum != "+4930123456" || !got.Discoverable {
				t.Errorf("update not stored: %+v", got)
			}
		}},
		{"verify email", false, func(t *testing.T, e *acctEnv, lc *provider.Lifecycle, box *outbox, u storage.User) error {
			if err := links.SendVerification(ctx, u); err != nil {
				t.Fatal(err)
			}
			_, tok := box.last(t, u.Email)
			_, err := lc.VerifyEmail(ctx, tok)
			return err
		}, nil, []string{annPW}, func(t *testing.T, got storage.User) {
			if !got.IsActivated {
				t.Error("verification not stored")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var users *interposedUsers
			e := newAcctEnvUsers(t, cheapArgon2, func(s storage.UserStore) storage.UserStore {
				users = &interposedUsers{UserStore: s}
				return users
			}, func(c *provider.AccountsConfig) { c.ActivateAtSignup = false })
			box := &outbox{}
			var err error
			links, err = provider.NewMailLinks(provider.MailLinkDeps{Tokens: e.store, Mail: box, BaseURL: acctIssuer, Now: e.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			lc, err := provider.NewLifecycle(provider.LifecycleDeps{Accounts: e.acc, Links: links,
				Rate: newClockRate(e.clk.Now), AddressLimit: "0", Now: e.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			u := e.signup(t, "ann@example.com", annPW)
			if tt.legacy {
				u = storage.User{ID: uuid.NewString(), Email: "old@example.com", EmailCanonical: "old@example.com",
					Domain: "example.com", PasswordHash: werkzeugHash(legacyPW, "s4lt", 1000)}
				if err := e.store.CreateUser(ctx, &u); err != nil {
					t.Fatal(err)
				}
			}
			users.arm(func() {
				h, err := e.hasher.Hash(ctx, resetPW)
				if err == nil {
					err = e.store.UpdateUser(ctx, u.ID, storage.UserChange{PasswordHash: &h})
				}
				if err != nil {
					t.Errorf("interposed reset: %v", err)
				}
			})

			if err := tt.act(t, e, lc, box, u); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if users.armed() {
				t.Fatal("no user write happened: nothing raced")
			}
			if _, err := e.acc.Authenticate(ctx, u.Email, resetPW); err != nil {
				t.Errorf("the reset's password: %v", err)
			}
			for _, pw := range tt.old {
				if _, err := e.acc.Authenticate(ctx, u.Email, pw); !errors.Is(err, provider.ErrWrongPassword) {
					t.Errorf("password %q after the reset: %v, want ErrWrongPassword", pw, err)
				}
			}
			if tt.check != nil {
				got, err := e.store.UserByID(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, got)
			}
		})
	}
}
