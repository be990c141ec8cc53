package provider_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/provider"
)

// TestTOTPEnrolAndSignIn walks the whole TOTP life: enrolment with the
// password, confirmation with a first code (whose step never signs in),
// sign-in with password + code, amr/acr, and the token dying on success
// (SEC-55, SEC-59).
func TestTOTPEnrolAndSignIn(t *testing.T) {
	e := newMFAEnv(t)
	ctx := t.Context()
	u := e.signup(t, "ann@example.com", testPassword)

	if _, err := e.mfa.StartTOTP(ctx, u.ID, "wrong-password-0"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("StartTOTP with a wrong password: %v", err)
	}
	if _, err := e.mfa.ConfirmTOTP(ctx, u.ID, "123456"); !errors.Is(err, provider.ErrNothingPending) {
		t.Fatalf("ConfirmTOTP with nothing pending: %v", err)
	}
	en, err := e.mfa.StartTOTP(ctx, u.ID, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^otpauth://totp/registry.test:ann@example.com\?`).MatchString(en.OTPAuthURI) {
		t.Errorf("otpauth URI %q", en.OTPAuthURI)
	}
	// Pending: not a factor yet, sign-in needs the password only.
	e.wantAMR(t, e.login(t, "ann@example.com", testPassword), []string{"pwd"}, "pwd")

	wrong := code(t, en.Secret, e.clk.Now().Add(-time.Hour))
	if _, err := e.mfa.ConfirmTOTP(ctx, u.ID, wrong); !errors.Is(err, provider.ErrWrongEnrolmentCode) {
		t.Fatalf("ConfirmTOTP with a wrong code: %v", err)
	}
	enrolCode := code(t, en.Secret, e.clk.Now())
	codes, err := e.mfa.ConfirmTOTP(ctx, u.ID, enrolCode)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	if _, err := e.mfa.StartTOTP(ctx, u.ID, testPassword); !errors.Is(err, provider.ErrMFAAlreadyEnabled) {
		t.Fatalf("StartTOTP while enabled: %v", err)
	}
	if got := e.mail.subjects(); len(got) != 1 || got[0] != "A second factor was added" {
		t.Errorf("mails %q", got)
	}

	need := e.challenge(t, "ann@example.com")
	if want := []string{"totp", "recovery_code"}; !equalStrings(need.Methods, want) {
		t.Errorf("methods %v, want %v", need.Methods, want)
	}
	// The enrolment code's step is taken: it does not sign in.
	if _, err := e.mfa.VerifyLogin(ctx, need.Token, enrolCode, ""); !errors.Is(err, provider.ErrWrongCode) {
		t.Fatalf("the enrolment code at sign-in: %v", err)
	}
	e.clk.Advance(30 * time.Second)
	pair, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, en.Secret, e.clk.Now()), "")
	if err != nil {
		t.Fatalf("VerifyLogin: %v", err)
	}
	e.wantAMR(t, pair, []string{"pwd", "otp", "mfa"}, "mfa")
	// One success ends the challenge.
	e.clk.Advance(30 * time.Second)
	if _, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, en.Secret, e.clk.Now()), ""); !errors.Is(err, provider.ErrMFAExpired) {
		t.Fatalf("mfa_token after success: %v", err)
	}
	// amr and acr survive a refresh.
	refreshed, err := e.acc.Refresh(ctx, pair.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.wantAMR(t, refreshed, []string{"pwd", "otp", "mfa"}, "mfa")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTOTPWindow: codes of one step either side are accepted, two steps
// are not (SPEC §10).
func TestTOTPWindow(t *testing.T) {
	for _, tc := range []struct {
		steps int
		ok    bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		t.Run(time.Duration(tc.steps*30*int(time.Second)).String(), func(t *testing.T) {
			e := newMFAEnv(t)
			_, secret, _ := e.enrolTOTP(t, "ann@example.com")
			e.clk.Advance(time.Hour)
			need := e.challenge(t, "ann@example.com")
			c := code(t, secret, e.clk.Now().Add(time.Duration(tc.steps)*30*time.Second))
			_, err := e.mfa.VerifyLogin(t.Context(), need.Token, c, "")
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, provider.ErrWrongCode) {
				t.Fatalf("code %+d steps away: err = %v, want ok=%v", tc.steps, err, tc.ok)
			}
		})
	}
}

// TestTOTPCodeOnceConcurrently: one code sent on many challenges at once
// signs in exactly once (SEC-55); the step is taken by the store's
// compare-and-set.
func TestTOTPCodeOnceConcurrently(t *testing.T) {
	e := newMFAEnv(t)
	_, secret, _ := e.enrolTOTP(t, "ann@example.com")
	e.clk.Advance(time.Minute)
	const n = 8
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = e.challenge(t, "ann@example.com").Token
	}
	c := code(t, secret, e.clk.Now())
	var wins, wrong atomic.Int32
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Go(func() {
			_, err := e.mfa.VerifyLogin(context.Background(), tok, c, "")
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, provider.ErrWrongCode):
				wrong.Add(1)
			default:
				t.Errorf("VerifyLogin: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || wrong.Load() != n-1 {
		t.Fatalf("%d concurrent uses of one code: %d signed in, %d refused; want 1 and %d", n, wins.Load(), wrong.Load(), n-1)
	}
}

// TestMFATokenLimits: an mfa_token dies after 5 wrong codes, after 5
// minutes, and names one user (SEC-59).
func TestMFATokenLimits(t *testing.T) {
	ctx := t.Context()
	t.Run("five-wrong-codes", func(t *testing.T) {
		e := newMFAEnv(t)
		_, secret, _ := e.enrolTOTP(t, "ann@example.com")
		e.clk.Advance(time.Minute)
		need := e.challenge(t, "ann@example.com")
		for i := range 5 {
			if _, err := e.mfa.VerifyLogin(ctx, need.Token, "000000", ""); !errors.Is(err, provider.ErrWrongCode) {
				t.Fatalf("wrong code %d: %v", i+1, err)
			}
		}
		if _, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, secret, e.clk.Now()), ""); !errors.Is(err, provider.ErrMFAExpired) {
			t.Fatalf("right code after 5 wrong ones: %v", err)
		}
	})
	t.Run("five-minutes", func(t *testing.T) {
		e := newMFAEnv(t)
		_, secret, _ := e.enrolTOTP(t, "ann@example.com")
		need := e.challenge(t, "ann@example.com")
		e.clk.Advance(5*time.Minute - time.Second)
		if _, err := e.mfa.PendingUser(ctx, need.Token); err != nil {
			t.Fatalf("token just before 5 min: %v", err)
		}
		e.clk.Advance(time.Second)
		if _, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, secret, e.clk.Now()), ""); !errors.Is(err, provider.ErrMFAExpired) {
			t.Fatalf("token after 5 min: %v", err)
		}
	})
	t.Run("names-one-user", func(t *testing.T) {
		e := newMFAEnv(t)
		ann, annSecret, _ := e.enrolTOTP(t, "ann@example.com")
		_, bobSecret, _ := e.enrolTOTP(t, "bob@example.com")
		e.clk.Advance(time.Minute)
		need := e.challenge(t, "ann@example.com")
		if u, err := e.mfa.PendingUser(ctx, need.Token); err != nil || u.ID != ann.ID {
			t.Fatalf("PendingUser = %v, %v; want ann", u.ID, err)
		}
		// Bob's valid code is a wrong code on Ann's challenge.
		if _, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, bobSecret, e.clk.Now()), ""); !errors.Is(err, provider.ErrWrongCode) {
			t.Fatalf("another user's code: %v", err)
		}
		pair, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, annSecret, e.clk.Now()), "")
		if err != nil {
			t.Fatal(err)
		}
		if c := e.claims(t, pair.AccessToken); c.Subject != ann.ID {
			t.Fatalf("tokens for %s, want ann", c.Subject)
		}
		// The mfa_token is no access token.
		if _, err := e.acc.Verify(ctx, need.Token); !errors.Is(err, provider.ErrUnauthenticated) {
			t.Fatalf("mfa_token as an access token: %v", err)
		}
		if _, err := e.acc.Refresh(ctx, need.Token); !errors.Is(err, provider.ErrUnauthenticated) {
			t.Fatalf("mfa_token as a refresh token: %v", err)
		}
	})
}

// TestMFAWrongCodesCountAgainstAccountLimit: wrong second-factor codes use
// up --limit-login-account like wrong passwords (SEC-55).
func TestMFAWrongCodesCountAgainstAccountLimit(t *testing.T) {
	e := newMFAEnv(t, func(c *provider.AccountsConfig) { c.LoginLimit = "3/15m" })
	ctx := t.Context()
	_, secret, _ := e.enrolTOTP(t, "ann@example.com")
	e.clk.Advance(time.Minute)
	need := e.challenge(t, "ann@example.com")
	for range 3 {
		if _, err := e.mfa.VerifyLogin(ctx, need.Token, "000000", ""); !errors.Is(err, provider.ErrWrongCode) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	_, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, secret, e.clk.Now()), "")
	var rl *provider.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("right code over the limit: %v, want a RateLimitError", err)
	}
	if _, err := e.mfa.Login(ctx, "ann@example.com", testPassword, ""); !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("password over the limit: %v", err)
	}
	e.clk.Advance(15 * time.Minute)
	need = e.challenge(t, "ann@example.com")
	if _, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, secret, e.clk.Now()), ""); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestTOTPSecretSealed: the stored secret is AES-GCM ciphertext bound to
// the user id (SEC-57): it holds no trace of the secret, and a row copied
// to another user opens for nobody.
func TestTOTPSecretSealed(t *testing.T) {
	e := newMFAEnv(t)
	ctx := t.Context()
	ann, secret, _ := e.enrolTOTP(t, "ann@example.com")
	f, err := e.store.TOTP(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(f.Secret, []byte(secret)) {
		t.Fatal("the stored TOTP row holds the secret in clear")
	}
	bob := e.signup(t, "bob@example.com", testPassword)
	f.UserID = bob.ID
	if err := e.store.CreateTOTP(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mfa.ConfirmTOTP(ctx, bob.ID, code(t, secret, e.clk.Now().Add(30*time.Second))); err == nil {
		t.Fatal("a secret sealed for ann opened for bob")
	}
}
