package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"user-registry/keys"
)

// TestMintLogoutToken: a logout token verifies with jwx against our JWKS,
// carries typ logout+jwt, the claims of SPEC §12 and no nonce.
func TestMintLogoutToken(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			tok, c, err := e.tokens.MintLogout(context.Background(), keys.LogoutClaims{Audience: "app", Subject: "u1", SID: "sid-1"})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := e.m.JWKS()
			set, err := jwk.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := jws.Parse([]byte(tok))
			if err != nil {
				t.Fatal(err)
			}
			if typ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != keys.TypeLogout {
				t.Fatalf("typ = %q", typ)
			}
			parsed, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithClock(jwt.ClockFunc(e.clk.Now)),
				jwt.WithIssuer(issuer), jwt.WithAudience("app"), jwt.WithSubject("u1"))
			if err != nil {
				t.Fatal(err)
			}
			m, _ := parsed.AsMap(context.Background())
			if _, ok := m["nonce"]; ok {
				t.Fatal("logout token has a nonce")
			}
			ev, ok := m["events"].(map[string]any)
			if _, has := ev[keys.EventBackchannelLogout]; !ok || !has || len(ev) != 1 {
				t.Fatalf("events = %v", m["events"])
			}
			if m["sid"] != "sid-1" || m["jti"] != c.JTI || c.JTI == "" || parsed.Expiration().Sub(parsed.IssuedAt()) != keys.LogoutTokenTTL {
				t.Fatalf("claims = %v", m)
			}
			// Never usable as an ID or access token.
			if _, err := e.tokens.VerifyID(context.Background(), tok, "app"); !errors.Is(err, keys.ErrInvalidToken) {
				t.Fatalf("VerifyID accepted a logout token: %v", err)
			}
			if _, err := e.tokens.VerifyIDHint(context.Background(), tok, "app"); !errors.Is(err, keys.ErrInvalidToken) {
				t.Fatalf("VerifyIDHint accepted a logout token: %v", err)
			}
		})
	}
}

// TestVerifyIDHint: an expired hint is accepted; signature, typ, iss and
// aud must hold.
func TestVerifyIDHint(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	idTok, err := e.tokens.MintID(ctx, keys.IDClaims{Subject: "u1", Audience: "app", SID: "sid-1", Nonce: "n"})
	if err != nil {
		t.Fatal(err)
	}
	access, _ := mint(t, e.tokens, userClaims())
	other := newEnv(t, "ES256") // another issuer's keys, same iss string
	foreign, err := other.tokens.MintID(ctx, keys.IDClaims{Subject: "u1", Audience: "app"})
	if err != nil {
		t.Fatal(err)
	}
	otherIss := keys.NewTokens(e.m, e.store, keys.TokenConfig{Issuer: "https://other.example", Now: e.clk.Now})
	wrongIss, err := otherIss.MintID(ctx, keys.IDClaims{Subject: "u1", Audience: "app"})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(idTok, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	e.clk.Advance(48 * time.Hour) // long expired, key still published
	if _, err := e.tokens.VerifyID(ctx, idTok, "app"); err == nil {
		t.Fatal("VerifyID accepted an expired token: the test needs it expired")
	}
	c, err := e.tokens.VerifyIDHint(ctx, idTok, "app")
	if err != nil || c.Subject != "u1" || c.SID != "sid-1" || c.Audience != "app" {
		t.Fatalf("expired hint: %+v, %v", c, err)
	}
	if c, err := e.tokens.VerifyIDHint(ctx, idTok, ""); err != nil || c.Audience != "app" {
		t.Fatalf("hint without client_id: %+v, %v", c, err)
	}
	for name, tc := range map[string]struct{ tok, client string }{
		"another client":  {idTok, "other-app"},
		"bad signature":   {tampered, "app"},
		"foreign key":     {foreign, "app"},
		"wrong issuer":    {wrongIss, "app"},
		"an access token": {access, ""},
		"garbage":         {"not.a.token", "app"},
	} {
		if _, err := e.tokens.VerifyIDHint(ctx, tc.tok, tc.client); !errors.Is(err, keys.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

// BenchmarkMintLogout: the cost of signing one logout token (the worker
// signs each delivery's first attempt, and again after exp).
func BenchmarkMintLogout(b *testing.B) {
	e := newEnv(b, "ES256")
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := e.tokens.MintLogout(ctx, keys.LogoutClaims{Audience: "app", Subject: "u1", SID: "sid-1"}); err != nil {
			b.Fatal(err)
		}
	}
}
