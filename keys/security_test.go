package keys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"user-registry/keys"
	"user-registry/storage"
)

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validClaims are the claims of a good access token at now.
func validClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": issuer, "sub": "user-1", "aud": []string{"api"}, "client_id": "user-registry", "scope": "openid",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "jti-forged-1",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// attackerSign signs claims with a key that is not ours, via plain jwx,
// with whatever protected headers the attacker likes.
func attackerSign(t *testing.T, alg jwa.SignatureAlgorithm, key any, hdr map[string]any, claims map[string]any) string {
	t.Helper()
	h := jws.NewHeaders()
	for k, v := range hdr {
		if err := h.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := jws.Sign(jsonOf(t, claims), jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func unsigned(t *testing.T, hdr, claims map[string]any) string {
	return base64.RawURLEncoding.EncodeToString(jsonOf(t, hdr)) + "." + base64.RawURLEncoding.EncodeToString(jsonOf(t, claims)) + "."
}

// failServer fails the test if anything fetches from it (SEC-3).
func failServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("verifier fetched %s", r.URL)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestVerifyRejectsForgedTokens(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			now := e.clk.Now()
			kid := keys.SigningKID(e.m)
			good := validClaims(now)
			hdr := map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}
			ours := func(h, c map[string]any) string { return keys.SignRaw(e.m, jsonOf(t, h), jsonOf(t, c)) }

			attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			attackerJWK, _ := jwk.FromRaw(attacker.Public())
			attacker384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			url := failServer(t)

			// RS/HS confusion material: the public key as the verifier might
			// hold it (PEM, DER, JWK JSON).
			pubDER, _ := x509.MarshalPKIXPublicKey(keys.SigningPrivate(e.m).Public())
			pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
			jwksBody, _ := e.m.JWKS()
			var set struct{ Keys []json.RawMessage }
			_ = json.Unmarshal(jwksBody, &set)

			cases := []struct {
				name string
				tok  string
			}{
				{"control is valid", ""},
				{"alg none", unsigned(t, with(hdr, "alg", "none"), good)},
				{"alg none uppercase", unsigned(t, with(hdr, "alg", "NONE"), good)},
				{"HS256 keyed with public PEM", attackerSign(t, jwa.HS256, pubPEM, with(hdr, "alg", nil), good)},
				{"HS256 keyed with public DER", attackerSign(t, jwa.HS256, pubDER, with(hdr, "alg", nil), good)},
				{"HS256 keyed with public JWK", attackerSign(t, jwa.HS256, []byte(set.Keys[0]), with(hdr, "alg", nil), good)},
				{"alg not in list (ES384)", attackerSign(t, jwa.ES384, attacker384, with(hdr, "alg", nil), good)},
				{"unknown kid", attackerSign(t, jwa.ES256, attacker, with(hdr, "alg", nil, "kid", "nope"), good)},
				{"traversal kid", attackerSign(t, jwa.ES256, attacker, with(hdr, "alg", nil, "kid", "../../etc/passwd"), good)},
				{"empty kid", ours(with(hdr, "kid", nil), good)},
				{"embedded jwk, our kid", attackerSign(t, jwa.ES256, attacker, with(hdr, "alg", nil, "jwk", attackerJWK), good)},
				{"embedded jwk, its kid", attackerSign(t, jwa.ES256, attacker, with(hdr, "alg", nil, "kid", "evil", "jwk", attackerJWK), good)},
				{"jku", attackerSign(t, jwa.ES256, attacker, with(hdr, "alg", nil, "jku", url+"/jwks"), good)},
				{"jku unknown kid", attackerSign(t, jwa.ES256, attacker, with(hdr, "alg", nil, "kid", "k2", "jku", url+"/jwks"), good)},
				{"x5u", attackerSign(t, jwa.ES256, attacker, with(hdr, "alg", nil, "x5u", url+"/cert"), good)},
				{"expired", ours(hdr, with(good, "iat", now.Add(-20*time.Minute).Unix(), "nbf", now.Add(-20*time.Minute).Unix(), "exp", now.Add(-31*time.Second).Unix()))},
				{"nbf in future", ours(hdr, with(good, "nbf", now.Add(31*time.Second).Unix()))},
				{"iat in future", ours(hdr, with(good, "iat", now.Add(31*time.Second).Unix()))},
				{"missing exp", ours(hdr, with(good, "exp", nil))},
				{"exp as string", ours(hdr, with(good, "exp", fmt.Sprint(now.Add(time.Hour).Unix())))},
				{"missing iat", ours(hdr, with(good, "iat", nil))},
				{"wrong iss", ours(hdr, with(good, "iss", "https://evil.test"))},
				{"missing jti", ours(hdr, with(good, "jti", nil))},
				{"typ JWT", ours(with(hdr, "typ", "JWT"), good)},
				{"no typ", ours(with(hdr, "typ", nil), good)},
				{"crit header", ours(with(hdr, "crit", []string{"exp"}), good)},
				{"alg header differs from key", ours(with(hdr, "alg", map[string]string{"ES256": "RS256", "RS256": "ES256"}[alg]), good)},
				{"garbage", "not.a.token"},
				{"json serialization", `{"payload":"e30","signatures":[]}`},
			}
			ctx := context.Background()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					if tc.tok == "" {
						if _, err := e.tokens.VerifyAccess(ctx, ours(hdr, good), "api"); err != nil {
							t.Fatalf("control rejected: %v", err)
						}
						return
					}
					_, err := e.tokens.VerifyAccess(ctx, tc.tok, "")
					if !errors.Is(err, keys.ErrInvalidToken) {
						t.Fatalf("accepted or wrong error: %v", err)
					}
				})
			}
		})
	}
}

func TestVerifyClockSkew(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	tok, _ := mint(t, e.tokens, userClaims())
	steps := []struct {
		name    string
		advance time.Duration
		valid   bool
	}{
		{"clock 29s behind (iat/nbf ahead within skew)", -29 * time.Second, true},
		{"clock 31s behind", -2 * time.Second, false},
		{"just minted", 31 * time.Second, true},
		{"exp + 29s", 10*time.Minute + 29*time.Second, true},
		{"exp + 30s", time.Second, false},
	}
	for _, s := range steps {
		e.clk.Advance(s.advance)
		_, err := e.tokens.VerifyAccess(ctx, tok, "")
		if (err == nil) != s.valid {
			t.Fatalf("%s: err = %v, want valid=%v", s.name, err, s.valid)
		}
	}
}

func TestVerifyAudienceAndIssuer(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	tok, _ := mint(t, e.tokens, userClaims())
	if _, err := e.tokens.VerifyAccess(ctx, tok, "other-api"); !errors.Is(err, keys.ErrInvalidToken) {
		t.Fatalf("wrong aud accepted: %v", err)
	}
	other := keys.NewTokens(e.m, e.store, keys.TokenConfig{Issuer: "https://other.test", Now: e.clk.Now})
	if _, err := other.VerifyAccess(ctx, tok, ""); !errors.Is(err, keys.ErrInvalidToken) {
		t.Fatalf("wrong iss accepted: %v", err)
	}
}

func TestRevocation(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	tok, c := mint(t, e.tokens, userClaims())
	if err := e.tokens.Revoke(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tokens.VerifyAccess(ctx, tok, ""); !errors.Is(err, keys.ErrInvalidToken) {
		t.Fatalf("revoked token accepted: %v", err)
	}
	if _, err := e.tokens.ParseAccess(ctx, tok, ""); err != nil {
		t.Fatalf("ParseAccess must not consult revocation: %v", err)
	}

	// Re-encodings of the revoked token (SEC-7).
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	spaced := strings.Replace(string(payload), `,"jti"`, ` , "jti"`, 1)
	reencoded := []string{
		tok + "=",
		parts[0] + "." + base64.URLEncoding.EncodeToString(payload) + "." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2] + "==",
		parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(spaced)) + "." + parts[2],
		" " + tok,
		tok + "\n",
		// Same claims, whitespace variant, legitimately signed by our key:
		// still revoked because revocation is keyed by jti.
		keys.SignRaw(e.m, []byte(`{"alg":"ES256","kid":"`+keys.SigningKID(e.m)+`","typ":"at+jwt"}`), []byte(" "+spaced+" ")),
	}
	for i, v := range reencoded {
		if _, err := e.tokens.VerifyAccess(ctx, v, ""); !errors.Is(err, keys.ErrInvalidToken) {
			t.Errorf("variant %d of a revoked token accepted: %v", i, err)
		}
	}
}

func TestRevocationBySIDAndNotBefore(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	tok, c := mint(t, e.tokens, userClaims())
	if err := e.store.Revoke(ctx, c.SID, c.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tokens.VerifyAccess(ctx, tok, ""); !errors.Is(err, keys.ErrInvalidToken) {
		t.Fatalf("token of revoked session accepted: %v", err)
	}

	other := userClaims()
	other.SID = "fam-2"
	tok2, _ := mint(t, e.tokens, other)
	e.clk.Advance(1500 * time.Millisecond)
	// A password change from session fam-3: every earlier token dies but
	// those of fam-3 (SPEC §3a: the caller keeps working).
	caller := userClaims()
	caller.SID = "fam-3"
	tokCaller, _ := mint(t, e.tokens, caller)
	noSID := userClaims()
	noSID.SID = ""
	tokNoSID, _ := mint(t, e.tokens, noSID)
	e.clk.Advance(1500 * time.Millisecond)
	if err := e.store.SetNotBefore(ctx, other.Subject, e.clk.Now(), e.clk.Now().Add(time.Hour), "fam-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tokens.VerifyAccess(ctx, tok2, ""); !errors.Is(err, keys.ErrInvalidToken) {
		t.Fatalf("token before not-before accepted: %v", err)
	}
	if _, err := e.tokens.VerifyAccess(ctx, tokNoSID, ""); !errors.Is(err, keys.ErrInvalidToken) {
		t.Fatalf("token without sid accepted despite not-before: %v", err)
	}
	if _, err := e.tokens.VerifyAccess(ctx, tokCaller, ""); err != nil {
		t.Fatalf("token of the spared session rejected: %v", err)
	}
	e.clk.Advance(time.Second)
	tok3, _ := mint(t, e.tokens, other)
	if _, err := e.tokens.VerifyAccess(ctx, tok3, ""); err != nil {
		t.Fatalf("token after not-before rejected: %v", err)
	}
}

// downStore is a RevocationStore whose backend is unreachable.
type downStore struct {
	storage.RevocationStore
	revokedErr, notBeforeErr error
}

func (d downStore) IsRevoked(ctx context.Context, ids ...string) (bool, error) {
	if d.revokedErr != nil {
		return false, d.revokedErr
	}
	return false, nil
}

func (d downStore) NotBefore(ctx context.Context, user string) (time.Time, string, error) {
	return time.Time{}, "", d.notBeforeErr
}

func TestRevocationStoreDownFailsClosed(t *testing.T) {
	e := newEnv(t, "ES256")
	tok, _ := mint(t, e.tokens, userClaims())
	down := fmt.Errorf("redis: dial tcp: %w", storage.ErrUnavailable)
	for _, d := range []downStore{
		{revokedErr: down},
		{notBeforeErr: down},
		{revokedErr: errors.New("some driver error")},
	} {
		tk := keys.NewTokens(e.m, d, keys.TokenConfig{Issuer: issuer, Now: e.clk.Now})
		c, err := tk.VerifyAccess(context.Background(), tok, "")
		if !errors.Is(err, storage.ErrUnavailable) || c.Subject != "" {
			t.Fatalf("store down: claims %+v, err %v", c, err)
		}
	}
}
