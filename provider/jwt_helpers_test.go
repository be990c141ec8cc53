package provider_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// testKey is a signing key of a test party (a client, an outside issuer)
// with the JWK of its public half.
type testKey struct {
	alg  jwa.SignatureAlgorithm
	kid  string
	priv crypto.Signer
	pub  jwk.Key
}

func newTestKey(t testing.TB, alg jwa.SignatureAlgorithm, kid string) testKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jwa.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwa.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jwa.RS256, jwa.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwa.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no test key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		_ = pub.Set(jwk.KeyIDKey, kid)
	}
	return testKey{alg: alg, kid: kid, priv: priv, pub: pub}
}

// jwksOf returns the JWK Set JSON of the public halves of ks.
func jwksOf(t testing.TB, ks ...testKey) []byte {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range ks {
		_ = set.AddKey(k.pub)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signJWT signs claims with k; extra headers (jwk, jku, typ …) are added
// to the protected header, and kid is k's unless extra sets it ("" drops it).
func signJWT(t testing.TB, k testKey, claims map[string]any, extra map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	if k.kid != "" {
		_ = h.Set(jws.KeyIDKey, k.kid)
	}
	for name, v := range extra {
		if name == jws.KeyIDKey && v == "" {
			_ = h.Remove(jws.KeyIDKey)
			continue
		}
		if err := h.Set(name, v); err != nil {
			t.Fatalf("header %s: %v", name, err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(k.alg, k.priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// signHS256 signs claims with HMAC under secret: the alg-confusion attack,
// with the public JWKS as the "secret".
func signHS256(t testing.TB, secret []byte, kid string, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, kid)
	tok, err := jws.Sign(payload, jws.WithKey(jwa.HS256, secret, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// unsignedJWT is an alg "none" token, built by hand because no library
// will make one.
func unsignedJWT(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + "."
}

// jwkFromPrivate returns a JWK Set holding k's private key: what a user
// must not register.
func jwkFromPrivate(t testing.TB, k testKey) ([]byte, jwk.Key) {
	t.Helper()
	pk, err := jwk.FromRaw(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	_ = set.AddKey(pk)
	return mustJSON(t, set), pk
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
