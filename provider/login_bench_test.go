package provider_test

import (
	"context"
	"errors"
	"testing"

	"user-registry/provider"
)

// BenchmarkLoginKnownVsUnknown compares Authenticate for an existing account
// (wrong password) and an unknown one with the default argon2id parameters:
// SEC-26 wants the two to take the same time. The per-account limit is off
// so every iteration hashes.
func BenchmarkLoginKnownVsUnknown(b *testing.B) {
	e := newAcctEnvParams(b, provider.DefaultArgon2Params(), func(c *provider.AccountsConfig) { c.LoginLimit = "0" })
	e.signup(b, "ann@example.com", annPW)
	ctx := context.Background()
	cases := []struct {
		name, email string
		want        error
	}{
		{"known", "ann@example.com", provider.ErrWrongPassword},
		{"unknown", "nobody@example.com", provider.ErrUnknownUser},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.acc.Authenticate(ctx, c.email, "not the password"); !errors.Is(err, c.want) {
					b.Fatal(err)
				}
			}
		})
	}
}
