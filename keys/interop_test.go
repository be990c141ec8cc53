package keys_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"user-registry/keys"
	"user-registry/storage/memstore"
)

// TestGoOIDCInterop verifies our ID and access tokens with an independent
// OIDC client library fed only by our discovery document and JWKS.
func TestGoOIDCInterop(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			clk := newClock()
			store := memstore.New(memstore.WithClock(clk.Now))
			m, err := keys.NewManager(store, keys.Config{Alg: alg, Secret: secret(t), Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Ensure(context.Background()); err != nil {
				t.Fatal(err)
			}
			var iss string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/.well-known/openid-configuration":
					body, err := keys.Discovery(iss, m.Algs())
					if err != nil {
						t.Error(err)
					}
					_, _ = w.Write(body)
				case "/.well-known/jwks.json":
					body, _ := m.JWKS()
					_, _ = w.Write(body)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			iss = srv.URL
			tk := keys.NewTokens(m, store, keys.TokenConfig{Issuer: iss, Now: clk.Now})

			ctx := context.Background()
			p, err := oidc.NewProvider(ctx, iss)
			if err != nil {
				t.Fatal(err)
			}
			at, _, err := tk.MintAccess(ctx, keys.AccessClaims{Subject: "u1", Audience: []string{"app"}, ClientID: "app", Scope: "openid"})
			if err != nil {
				t.Fatal(err)
			}
			id, _, err := tk.MintIDFor(ctx, keys.IDClaims{Subject: "u1", Audience: "app", Nonce: "n1"}, at)
			if err != nil {
				t.Fatal(err)
			}
			v := p.Verifier(&oidc.Config{ClientID: "app", Now: clk.Now})
			idt, err := v.Verify(ctx, id)
			if err != nil {
				t.Fatalf("go-oidc rejects our ID token: %v", err)
			}
			if idt.Nonce != "n1" || idt.Subject != "u1" {
				t.Fatalf("id token %+v", idt)
			}
			if err := idt.VerifyAccessToken(at); err != nil {
				t.Fatalf("at_hash mismatch: %v", err)
			}
			// go-oidc ignores typ, so it also accepts the at+jwt access
			// token (aud contains the client id).
			if _, err := v.Verify(ctx, at); err != nil {
				t.Fatalf("go-oidc rejects our access token: %v", err)
			}
		})
	}
}
