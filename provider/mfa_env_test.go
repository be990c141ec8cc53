package provider_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
)

// mfaEnv is an acctEnv with the second-factor service over the same
// memstore (database and session store alike) and fake clock.
type mfaEnv struct {
	*acctEnv
	mfa    *provider.MFA
	secret []byte
	mail   *mailRecorder
	audit  *auditRecorder
}

// mailRecorder is a mail queue that keeps what it is given.
type mailRecorder struct {
	mu   sync.Mutex
	sent []provider.Mail
}

func (m *mailRecorder) Enqueue(x provider.Mail) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, x)
	return true
}

func (m *mailRecorder) subjects() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, x := range m.sent {
		out = append(out, x.Subject)
	}
	return out
}

func newMFAEnv(t testing.TB, opts ...envOpt) *mfaEnv {
	t.Helper()
	return newMFAEnvParams(t, cheapArgon2, opts...)
}

// newMFAEnvParams is newMFAEnv with the given argon2 parameters.
func newMFAEnvParams(t testing.TB, params provider.Argon2Params, opts ...envOpt) *mfaEnv {
	t.Helper()
	e := &mfaEnv{acctEnv: newAcctEnvParams(t, params, opts...), secret: make([]byte, 32), mail: &mailRecorder{}, audit: &auditRecorder{}}
	_, _ = rand.Read(e.secret)
	m, err := provider.NewMFA(provider.MFADeps{
		Accounts: e.acc, Store: e.store, Challenges: e.store, Secret: e.secret, Issuer: "registry.test",
		Mail: e.mail, Audit: e.audit, Now: e.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mfa = m
	return e
}

// testPassword is the password of the users these tests make.
const testPassword = "correct-horse-battery-9"

var testTOTPOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// code is the TOTP code of secret at t, as an authenticator app shows it.
func code(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, testTOTPOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP signs up email and enables TOTP, returning the user, the
// secret and the recovery codes.
func (e *mfaEnv) enrolTOTP(t testing.TB, email string) (storage.User, string, []string) {
	t.Helper()
	ctx := context.Background()
	u := e.signup(t, email, testPassword)
	en, err := e.mfa.StartTOTP(ctx, u.ID, testPassword)
	if err != nil {
		t.Fatalf("StartTOTP: %v", err)
	}
	codes, err := e.mfa.ConfirmTOTP(ctx, u.ID, code(t, en.Secret, e.clk.Now()))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return u, en.Secret, codes
}

// challenge signs in with the password and returns the mfa_token.
func (e *mfaEnv) challenge(t testing.TB, email string) *provider.MFARequiredError {
	t.Helper()
	_, err := e.mfa.Login(context.Background(), email, testPassword, "")
	var need *provider.MFARequiredError
	if !errors.As(err, &need) {
		t.Fatalf("Login of %s: err = %v, want an MFARequiredError", email, err)
	}
	return need
}

// claims verifies an access token and returns its claims.
func (e *mfaEnv) claims(t testing.TB, access string) keys.AccessClaims {
	t.Helper()
	c, err := e.tokens.VerifyAccess(context.Background(), access, "")
	if err != nil {
		t.Fatalf("VerifyAccess: %v", err)
	}
	return c
}

// wantAMR checks a pair's amr and acr.
func (e *mfaEnv) wantAMR(t testing.TB, p provider.TokenPair, amr []string, acr string) {
	t.Helper()
	c := e.claims(t, p.AccessToken)
	if !slices.Equal(c.AMR, amr) || c.ACR != acr {
		t.Fatalf("amr %v acr %q, want %v %q", c.AMR, c.ACR, amr, acr)
	}
}
