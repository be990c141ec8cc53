package keys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func BenchmarkMintAccess(b *testing.B) {
	e := newEnv(b, "ES256")
	ctx := context.Background()
	c := userClaims()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := e.tokens.MintAccess(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyAccess(b *testing.B) {
	e := newEnv(b, "ES256")
	ctx := context.Background()
	tok, _ := mint(b, e.tokens, userClaims())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.tokens.VerifyAccess(ctx, tok, "api"); err != nil {
			b.Fatal(err)
		}
	}
}

// Raw jwx for comparison: jwt.Sign / jwt.Parse with a bare ECDSA key.
func BenchmarkJWXSignES256(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tok, _ := jwt.NewBuilder().Issuer(issuer).Subject("u1").Audience([]string{"api"}).JwtID("j").Build()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJWXVerifyES256(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tok, _ := jwt.NewBuilder().Issuer(issuer).Subject("u1").Audience([]string{"api"}).JwtID("j").Build()
	signed, _ := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := jwt.Parse(signed, jwt.WithKey(jwa.ES256, &key.PublicKey), jwt.WithValidate(false)); err != nil {
			b.Fatal(err)
		}
	}
}
