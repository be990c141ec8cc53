package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"user-registry/keys"
	"user-registry/storage/memstore"
)

// newTestKeys returns a key manager with one active key and its token service.
func newTestKeys(t *testing.T, issuer string) (*keys.Manager, *keys.Tokens, *memstore.Store) {
	t.Helper()
	st := memstore.New()
	mgr, err := keys.NewManager(st, keys.Config{Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	return mgr, keys.NewTokens(mgr, st, keys.TokenConfig{Issuer: issuer}), st
}

func TestJWKSAndDiscovery(t *testing.T) {
	const issuer = "https://id.example.test"
	mgr, tokens, _ := newTestKeys(t, issuer)
	h := New(Config{Issuer: issuer, Keys: mgr, Tokens: tokens, JWKSMaxAge: 10 * time.Minute})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "public, max-age=600" {
		t.Fatalf("jwks = %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, `"k"`} {
		if strings.Contains(rec.Body.String(), private+":") {
			t.Fatalf("JWKS leaks %s: %s", private, rec.Body)
		}
	}
	set, err := jwk.Parse(rec.Body.Bytes())
	if err != nil || set.Len() != 1 {
		t.Fatalf("parse jwks: %v (%d keys)", err, set.Len())
	}
	// A token minted by the service verifies with plain jwx against it.
	tok, _, err := tokens.MintAccess(context.Background(), keys.AccessClaims{Subject: "u1", Audience: []string{issuer}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithIssuer(issuer)); err != nil {
		t.Fatalf("token does not verify against served JWKS: %v", err)
	}

	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if etag == "" || rec.Code != 304 {
		t.Fatalf("conditional GET = %d (etag %q)", rec.Code, etag)
	}

	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != 200 {
			t.Fatalf("%s = %d %s", path, rec.Code, rec.Body)
		}
		if doc["issuer"] != issuer || doc["jwks_uri"] != issuer+"/.well-known/jwks.json" {
			t.Fatalf("%s: issuer/jwks_uri = %v %v", path, doc["issuer"], doc["jwks_uri"])
		}
		// SPEC §6 values exactly; SEC-11: no "none" alg, no "plain" PKCE,
		// only the enabled grants ("none" is an auth method of public
		// clients, never an alg).
		for field, want := range map[string]string{
			"authorization_endpoint":                issuer + "/oauth2/authorize",
			"token_endpoint":                        issuer + "/oauth2/token",
			"revocation_endpoint":                   issuer + "/oauth2/revoke",
			"introspection_endpoint":                issuer + "/oauth2/introspect",
			"userinfo_endpoint":                     issuer + "/userinfo",
			"grant_types_supported":                 "[authorization_code refresh_token client_credentials urn:ietf:params:oauth:grant-type:token-exchange urn:ietf:params:oauth:grant-type:device_code]",
			"response_types_supported":              "[code]",
			"code_challenge_methods_supported":      "[S256]",
			"id_token_signing_alg_values_supported": "[ES256]",
			"token_endpoint_auth_methods_supported": "[client_secret_basic client_secret_post none private_key_jwt]",
			// SPEC §11: the client-assertion algs, never none or HS*.
			"token_endpoint_auth_signing_alg_values_supported": "[ES256 ES384 RS256 PS256 EdDSA]",
			"subject_types_supported":                          "[public]",
		} {
			if got := fmt.Sprint(doc[field]); got != want {
				t.Errorf("%s: %s = %s, want %s", path, field, got, want)
			}
		}
		if _, ok := doc["scopes_supported"].([]any); !ok {
			t.Errorf("%s: scopes_supported = %v", path, doc["scopes_supported"])
		}
	}
}

func TestBearerMiddleware(t *testing.T) {
	const issuer = "https://id.example.test"
	_, tokens, st := newTestKeys(t, issuer)
	s := &server{log: discardLogger(), tokens: tokens}
	h := s.requireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := claimsFrom(r.Context())
		writeJSON(w, 200, message{c.Subject})
	}))
	ctx := context.Background()
	good, _, _ := tokens.MintAccess(ctx, keys.AccessClaims{Subject: "u1", Audience: []string{issuer}})
	revoked, rc, _ := tokens.MintAccess(ctx, keys.AccessClaims{Subject: "u2", Audience: []string{issuer}})
	if err := tokens.Revoke(ctx, rc); err != nil {
		t.Fatal(err)
	}
	_ = st
	tests := []struct {
		name, header, query string
		status              int
	}{
		{"valid", "Bearer " + good, "", 200},
		{"lower-case scheme", "bearer " + good, "", 200},
		{"missing", "", "", 401},
		{"query string is ignored", "", "?access_token=" + good, 401},
		{"basic scheme", "Basic " + good, "", 401},
		{"garbage", "Bearer not.a.jwt", "", 401},
		{"revoked", "Bearer " + revoked, "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/me"+tt.query, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}
