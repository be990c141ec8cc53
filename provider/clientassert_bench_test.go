package provider_test

import (
	"testing"

	"user-registry/provider"
)

// BenchmarkClientAssertion: one private_key_jwt authentication (ES256),
// each with a fresh assertion (signed outside the timer).
func BenchmarkClientAssertion(b *testing.B) {
	e := newAssertionEnv(&testing.T{})
	ctx := b.Context()
	tokens := make([]string, b.N)
	for i := range tokens {
		tokens[i] = signJWT(b, e.key, e.claims(e.id), nil)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.auth.Authenticate(ctx, provider.ClientCredentials{Method: provider.AuthPrivateKeyJWT,
			Assertion: tokens[i], Endpoint: "/oauth2/token"}, provider.UseClientCredentials); err != nil {
			b.Fatal(err)
		}
	}
}
