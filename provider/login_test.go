package provider_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/pbkdf2"

	"user-registry/provider"
	"user-registry/storage"
)

const annPW = "correct horse battery"

func TestLogin(t *testing.T) {
	tests := []struct {
		name, email, pw string
		wantErr         error
	}{
		{"success", "ann@example.com", annPW, nil},
		{"success other case", "ANN@Example.com ", annPW, nil},
		{"unknown user", "nobody@example.com", annPW, provider.ErrUnknownUser},
		{"unparsable email is unknown", "not an email", annPW, provider.ErrUnknownUser},
		{"wrong password", "ann@example.com", annPW + "!", provider.ErrWrongPassword},
		{"empty password", "ann@example.com", "", provider.ErrWrongPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAcctEnv(t)
			u := e.signup(t, "Ann@example.com", annPW)
			p, err := e.acc.Login(context.Background(), tt.email, tt.pw)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if p.TokenType != "Bearer" || p.ExpiresIn != 600 || p.AccessToken == "" || p.RefreshToken == "" {
				t.Errorf("pair = %+v", p)
			}
			c, err := e.acc.Verify(context.Background(), p.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != u.ID || c.ClientID != "user-registry" || c.Scope != "openid email phone" ||
				c.Email != "Ann@example.com" || c.Domain != "example.com" || c.IsActivated == nil || !*c.IsActivated ||
				len(c.Audience) != 1 || c.Audience[0] != acctIssuer || c.Issuer != acctIssuer {
				t.Errorf("claims = %+v", c)
			}
			if c.SID == "" || !strings.HasPrefix(p.RefreshToken, c.SID+".") {
				t.Errorf("sid %q not the refresh family of %q", c.SID, p.RefreshToken)
			}
			if c.JTI == "" || c.ExpiresAt.Sub(c.IssuedAt) != 10*time.Minute {
				t.Errorf("jti %q iat %v exp %v", c.JTI, c.IssuedAt, c.ExpiresAt)
			}
		})
	}
}

func TestLoginRequireVerified(t *testing.T) {
	e := newAcctEnv(t, func(c *provider.AccountsConfig) { c.RequireVerified = true; c.ActivateAtSignup = false })
	e.signup(t, "ann@example.com", annPW)
	ctx := context.Background()
	if _, err := e.acc.Login(ctx, "ann@example.com", "wrong password!"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("wrong password: %v (the verification state is only revealed to the owner)", err)
	}
	if _, err := e.acc.Login(ctx, "ann@example.com", annPW); !errors.Is(err, provider.ErrNotVerified) {
		t.Fatalf("unverified: %v", err)
	}
}

// SEC-38: per-account failed logins, N per window, then 429 until reset.
func TestLoginAccountLimit(t *testing.T) {
	e := newAcctEnv(t, func(c *provider.AccountsConfig) { c.LoginLimit = "3/15m" })
	e.signup(t, "ann@example.com", annPW)
	ctx := context.Background()
	for i := range 3 {
		if _, err := e.acc.Login(ctx, "Ann@example.com", "wrong password!"); !errors.Is(err, provider.ErrWrongPassword) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		e.clk.Advance(time.Minute)
	}
	// Limited now, even with the right password, and for another case.
	for _, email := range []string{"ann@example.com", "ANN@EXAMPLE.COM"} {
		_, err := e.acc.Login(ctx, email, annPW)
		var rl *provider.RateLimitError
		if !errors.As(err, &rl) || !errors.Is(err, provider.ErrRateLimited) {
			t.Fatalf("after 3 failures: %v", err)
		}
		if rl.RetryAfter != 12*time.Minute || rl.Seconds() != 720 {
			t.Errorf("RetryAfter = %v (%d s), want 12m", rl.RetryAfter, rl.Seconds())
		}
	}
	// Unknown accounts are limited too.
	for range 3 {
		if _, err := e.acc.Login(ctx, "ghost@example.com", annPW); !errors.Is(err, provider.ErrUnknownUser) {
			t.Fatal(err)
		}
	}
	if _, err := e.acc.Login(ctx, "ghost@example.com", annPW); !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("unknown account not limited: %v", err)
	}
	// Other accounts are unaffected.
	e.signup(t, "bob@example.com", annPW)
	e.login(t, "bob@example.com", annPW)
	// The window resets.
	e.clk.Advance(12 * time.Minute)
	e.login(t, "ann@example.com", annPW)
}

func TestLoginLimitOff(t *testing.T) {
	e := newAcctEnv(t, func(c *provider.AccountsConfig) { c.LoginLimit = "0" })
	e.signup(t, "ann@example.com", annPW)
	for range 20 {
		if _, err := e.acc.Login(context.Background(), "ann@example.com", "wrong password!"); !errors.Is(err, provider.ErrWrongPassword) {
			t.Fatal(err)
		}
	}
	e.login(t, "ann@example.com", annPW)
}

// werkzeugHash builds a hash the original Flask service would have stored.
func werkzeugHash(pw, salt string, iter int) string {
	key := pbkdf2.Key([]byte(pw), []byte(salt), iter, 32, sha256.New)
	return "pbkdf2:sha256:" + strconv.Itoa(iter) + "$" + salt + "$" + hex.EncodeToString(key)
}

// SEC-31: a legacy werkzeug hash verifies once and is replaced by argon2id.
func TestLoginRehashesLegacyHash(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	u := storage.User{ID: uuid.NewString(), Email: "old@example.com", EmailCanonical: "old@example.com",
		Domain: "example.com", PasswordHash: werkzeugHash("Legacy-Pass1", "s4lt", 1000), IsActivated: true}
	if err := e.store.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.Login(ctx, "old@example.com", "legacy-pass1"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("wrong legacy password: %v", err)
	}
	e.login(t, "old@example.com", "Legacy-Pass1")
	got, err := e.store.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
		t.Fatalf("hash not upgraded: %q", got.PasswordHash)
	}
	e.login(t, "old@example.com", "Legacy-Pass1")
}

func TestLoginMalformedStoredHash(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	u := storage.User{ID: uuid.NewString(), Email: "dev@example.com", EmailCanonical: "dev@example.com", Domain: "example.com"}
	if err := e.store.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.Login(ctx, "dev@example.com", annPW); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("err = %v", err)
	}
}
