package keys_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"user-registry/keys"
)

func decodePart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("part %d is not JSON: %v: %s", i, err, b)
	}
	return m
}

func TestMintAndVerifyAccess(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			ctx := context.Background()
			c := userClaims()
			c.Email = "a\"b\\c<d>&\u2028\x01é@example.com" // escaping must round-trip
			tok, minted := mint(t, e.tokens, c)

			hdr := decodePart(t, tok, 0)
			if hdr["alg"] != alg || hdr["typ"] != "at+jwt" || hdr["kid"] == "" {
				t.Fatalf("header = %v", hdr)
			}
			claims := decodePart(t, tok, 1)
			for _, name := range []string{"iss", "sub", "aud", "client_id", "scope", "email", "domain", "is_activated", "sid", "iat", "nbf", "exp", "jti"} {
				if _, ok := claims[name]; !ok {
					t.Errorf("claim %s missing: %v", name, claims)
				}
			}
			if jti, _ := base64.RawURLEncoding.DecodeString(minted.JTI); len(jti) < 16 {
				t.Errorf("jti %q has < 128 bits", minted.JTI)
			}
			if got := minted.ExpiresAt.Sub(minted.IssuedAt); got != keys.DefaultTokenTTL {
				t.Errorf("ttl = %v", got)
			}

			got, err := e.tokens.VerifyAccess(ctx, tok, "api")
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != c.Email || got.JTI != minted.JTI || got.Subject != c.Subject || *got.IsActivated != true ||
				!got.ExpiresAt.Equal(minted.ExpiresAt) || got.Issuer != issuer || got.SID != "fam-1" {
				t.Fatalf("verified claims = %+v, minted %+v", got, minted)
			}

			// Interop: plain jwx with the published JWKS.
			body, _ := e.m.JWKS()
			set, err := jwk.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithClock(jwt.ClockFunc(e.clk.Now)),
				jwt.WithIssuer(issuer), jwt.WithAudience("api")); err != nil {
				t.Fatalf("jwx rejects our token: %v", err)
			}
		})
	}
}

func TestAuthorityTokenDefaultsAudience(t *testing.T) {
	e := newEnv(t, "ES256")
	tok, c := mint(t, e.tokens, keys.AccessClaims{Subject: "client-1", ClientID: "client-1", Scope: "a b", Domain: "example.com"})
	if len(c.Audience) != 1 || c.Audience[0] != issuer {
		t.Fatalf("aud = %v", c.Audience)
	}
	claims := decodePart(t, tok, 1)
	if _, ok := claims["email"]; ok {
		t.Error("authority token carries email")
	}
	if _, err := e.tokens.VerifyAccess(context.Background(), tok, issuer); err != nil {
		t.Fatal(err)
	}
}

func TestMintIDToken(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			ctx := context.Background()
			at, _ := mint(t, e.tokens, userClaims())
			auth := e.clk.Now().Add(-time.Minute)
			id, c, err := e.tokens.MintIDFor(ctx, keys.IDClaims{Subject: "u1", Audience: "app", Nonce: "n-0S6", AuthTime: auth, EmailVerified: boolp(true)}, at)
			if err != nil {
				t.Fatal(err)
			}
			if c.AtHash != keys.AtHash(alg, at) {
				t.Fatalf("at_hash %q", c.AtHash)
			}
			if hdr := decodePart(t, id, 0); hdr["typ"] != "JWT" {
				t.Fatalf("typ = %v", hdr["typ"])
			}
			got, err := e.tokens.VerifyID(ctx, id, "app")
			if err != nil {
				t.Fatal(err)
			}
			if got.Nonce != "n-0S6" || got.AtHash != c.AtHash || got.AuthTime.Unix() != auth.Unix() || got.Audience != "app" {
				t.Fatalf("claims %+v", got)
			}
			if _, err := e.tokens.VerifyID(ctx, id, "other-app"); !errors.Is(err, keys.ErrInvalidToken) {
				t.Fatalf("wrong client id accepted: %v", err)
			}
			if _, err := e.tokens.VerifyAccess(ctx, id, ""); !errors.Is(err, keys.ErrInvalidToken) {
				t.Fatalf("ID token accepted as access token: %v", err)
			}
			if _, err := e.tokens.VerifyID(ctx, at, "api"); !errors.Is(err, keys.ErrInvalidToken) {
				t.Fatalf("access token accepted as ID token: %v", err)
			}
		})
	}
}

func TestAtHashVector(t *testing.T) {
	// OpenID Connect Core A.3 example: access token and at_hash for RS256.
	if got := keys.AtHash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"); got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Fatalf("at_hash = %q", got)
	}
}

// amr and acr (RFC 8176, SPEC §10) round-trip through both token kinds,
// and tokens without them carry neither claim.
func TestAuthnClaims(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	amr := []string{"pwd", "otp", "mfa"}
	c := userClaims()
	c.AMR, c.ACR = amr, "mfa"
	tok, _ := mint(t, e.tokens, c)
	got, err := e.tokens.VerifyAccess(ctx, tok, "api")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.AMR, " ") != "pwd otp mfa" || got.ACR != "mfa" {
		t.Fatalf("access amr %v acr %q", got.AMR, got.ACR)
	}
	id, _, err := e.tokens.MintIDFor(ctx, keys.IDClaims{Subject: "u1", Audience: "app", AMR: amr, ACR: "mfa"}, tok)
	if err != nil {
		t.Fatal(err)
	}
	gotID, err := e.tokens.VerifyID(ctx, id, "app")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(gotID.AMR, " ") != "pwd otp mfa" || gotID.ACR != "mfa" {
		t.Fatalf("id amr %v acr %q", gotID.AMR, gotID.ACR)
	}
	plain, _ := mint(t, e.tokens, keys.AccessClaims{Subject: "client-1", ClientID: "client-1", Domain: "example.com"})
	claims := decodePart(t, plain, 1)
	if _, ok := claims["amr"]; ok {
		t.Errorf("authority token carries amr: %v", claims)
	}
	if _, ok := claims["acr"]; ok {
		t.Errorf("authority token carries acr: %v", claims)
	}
}
