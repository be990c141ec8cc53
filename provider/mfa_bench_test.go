package provider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"user-registry/provider"
)

// BenchmarkLoginTOTP compares a password sign-in with the default argon2id
// parameters against the same sign-in with a TOTP second step, and times
// the second step alone: the TOTP check (open the sealed secret, three
// HMAC-SHA1 codes, the step's compare-and-set) should cost nothing next to
// argon2id. Each iteration moves the fake clock a step on, so every code
// is fresh. Run:
//
//	go test -run '^$' -bench LoginTOTP -benchtime 20x ./provider/
func BenchmarkLoginTOTP(b *testing.B) {
	e := newMFAEnvParams(b, provider.DefaultArgon2Params(), func(c *provider.AccountsConfig) { c.LoginLimit = "0" })
	ctx := context.Background()
	e.signup(b, "plain@example.com", testPassword)
	_, secret, _ := e.enrolTOTP(b, "ann@example.com")

	b.Run("password", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.mfa.Login(ctx, "plain@example.com", testPassword, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("password+totp", func(b *testing.B) {
		for b.Loop() {
			e.clk.Advance(30 * time.Second)
			_, err := e.mfa.Login(ctx, "ann@example.com", testPassword, "")
			var need *provider.MFARequiredError
			if !errors.As(err, &need) {
				b.Fatal(err)
			}
			if _, err := e.mfa.VerifyLogin(ctx, need.Token, code(b, secret, e.clk.Now()), ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("totp-step-only", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			e.clk.Advance(30 * time.Second)
			_, err := e.mfa.Login(ctx, "ann@example.com", testPassword, "")
			var need *provider.MFARequiredError
			if !errors.As(err, &need) {
				b.Fatal(err)
			}
			c := code(b, secret, e.clk.Now())
			b.StartTimer()
			if _, err := e.mfa.VerifyLogin(ctx, need.Token, c, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
