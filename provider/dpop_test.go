package provider_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage/memstore"
)

const dpopIssuer = "https://id.example.com"

// proofSpec describes a proof to build; the zero value plus a key is a
// valid proof for POST /oauth2/token at dpopNow.
type proofSpec struct {
	alg       jwa.SignatureAlgorithm
	key       any // private key that signs
	headerKey any // key put in the jwk header; nil: the public half of key
	noJWK     bool
	typ       *string
	crit      bool
	claims    map[string]any // replaces the defaults for the keys given; nil value deletes
}

var dpopNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func str(s string) *string { return &s }

// makeProof signs spec with jwx (tests may build malformed JWS by hand;
// the verifier never parses by hand).
func makeProof(t *testing.T, spec proofSpec) string {
	t.Helper()
	claims := map[string]any{"jti": "jti-" + t.Name(), "htm": "POST", "htu": dpopIssuer + "/oauth2/token", "iat": dpopNow.Unix()}
	for k, v := range spec.claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	typ := "dpop+jwt"
	if spec.typ != nil {
		typ = *spec.typ
	}
	if typ != "" {
		_ = hdr.Set(jws.TypeKey, typ)
	}
	if !spec.noJWK {
		hk := spec.headerKey
		if hk == nil {
			priv, err := jwk.FromRaw(spec.key)
			if err != nil {
				t.Fatal(err)
			}
			hk, _ = jwk.PublicKeyOf(priv)
		} else if raw, ok := hk.(jwk.Key); !ok {
			k, err := jwk.FromRaw(hk)
			if err != nil {
				t.Fatal(err)
			}
			hk = k
		} else {
			hk = raw
		}
		if err := hdr.Set(jws.JWKKey, hk); err != nil {
			t.Fatal(err)
		}
	}
	if spec.crit {
		_ = hdr.Set(jws.CriticalKey, []string{"exp"})
	}
	out, err := jws.Sign(payload, jws.WithKey(spec.alg, spec.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatalf("sign proof: %v", err)
	}
	return string(out)
}

// noneProof is an unsigned proof (alg none), assembled by hand since jwx
// refuses to make one.
func noneProof(t *testing.T, pub jwk.Key) string {
	h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "none", "jwk": pub})
	c, _ := json.Marshal(map[string]any{"jti": "n", "htm": "POST", "htu": dpopIssuer + "/oauth2/token", "iat": dpopNow.Unix()})
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

func newDPoP(t *testing.T, now func() time.Time) *provider.DPoP {
	t.Helper()
	d, err := provider.NewDPoP(provider.DPoPDeps{Nonces: memstore.New(memstore.WithClock(now)), Issuer: dpopIssuer + "/", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDPoPProofRefusals: every check of a DPoP proof, each refused alone
// (SEC-63): replay, another method or URL, too old or too new, symmetric
// and none algs, a private key or no key in the header, a key that does
// not fit the alg, a wrong typ, crit, a bad signature, a wrong ath.
func TestDPoPProofRefusals(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	hmacKey := []byte("0123456789abcdef0123456789abcdef")
	privJWK, _ := jwk.FromRaw(ec) // a private key in the header
	otherPub, _ := jwk.FromRaw(other.Public())
	ecPub, _ := jwk.FromRaw(ec.Public())
	octJWK, _ := jwk.FromRaw(hmacKey)
	token := "header.payload.signature"
	athOf := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	tokenReq := provider.DPoPProof{Method: "POST", Path: "/oauth2/token"}
	resourceReq := provider.DPoPProof{Method: "GET", Path: "/userinfo", AccessToken: token}
	resourceClaims := map[string]any{"htm": "GET", "htu": dpopIssuer + "/userinfo", "ath": athOf(token)}

	cases := []struct {
		name string
		spec proofSpec
		jwt  string // overrides spec
		req  provider.DPoPProof
		ok   bool
	}{
		{name: "valid ES256", spec: proofSpec{alg: jwa.ES256, key: ec}, req: tokenReq, ok: true},
		{name: "valid ES384", spec: proofSpec{alg: jwa.ES384, key: ec384}, req: tokenReq, ok: true},
		{name: "valid EdDSA", spec: proofSpec{alg: jwa.EdDSA, key: ed}, req: tokenReq, ok: true},
		{name: "valid RS256", spec: proofSpec{alg: jwa.RS256, key: rsaKey}, req: tokenReq, ok: true},
		{name: "valid PS256", spec: proofSpec{alg: jwa.PS256, key: rsaKey}, req: tokenReq, ok: true},
		{name: "valid with ath at a resource", spec: proofSpec{alg: jwa.ES256, key: ec, claims: resourceClaims}, req: resourceReq, ok: true},
		{name: "htu with query and fragment ignored", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"htu": "HTTPS://ID.example.com/oauth2/token?x=1#f"}}, req: tokenReq, ok: true},
		{name: "fractional iat inside the window", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"iat": float64(dpopNow.Unix()) - 59.5}}, req: tokenReq, ok: true},

		{name: "HS256 (symmetric)", spec: proofSpec{alg: jwa.HS256, key: hmacKey, headerKey: octJWK}, req: tokenReq},
		{name: "none", jwt: noneProof(t, ecPub), req: tokenReq},
		{name: "private key in the jwk header", spec: proofSpec{alg: jwa.ES256, key: ec, headerKey: privJWK}, req: tokenReq},
		{name: "no jwk header", spec: proofSpec{alg: jwa.ES256, key: ec, noJWK: true}, req: tokenReq},
		{name: "jwk of another key", spec: proofSpec{alg: jwa.ES256, key: ec, headerKey: otherPub}, req: tokenReq},
		{name: "P-384 key under ES256", spec: proofSpec{alg: jwa.ES256, key: ec384}, req: tokenReq},
		{name: "RSA key under 2048 bits", spec: proofSpec{alg: jwa.RS256, key: rsaSmall}, req: tokenReq},
		{name: "RS512 not in the list", spec: proofSpec{alg: jwa.RS512, key: rsaKey}, req: tokenReq},
		{name: "typ JWT", spec: proofSpec{alg: jwa.ES256, key: ec, typ: str("JWT")}, req: tokenReq},
		{name: "no typ", spec: proofSpec{alg: jwa.ES256, key: ec, typ: str("")}, req: tokenReq},
		{name: "crit header", spec: proofSpec{alg: jwa.ES256, key: ec, crit: true}, req: tokenReq},
		{name: "wrong htm", spec: proofSpec{alg: jwa.ES256, key: ec, claims: map[string]any{"htm": "GET"}}, req: tokenReq},
		{name: "lower-case htm", spec: proofSpec{alg: jwa.ES256, key: ec, claims: map[string]any{"htm": "post"}}, req: tokenReq},
		{name: "wrong htu path", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"htu": dpopIssuer + "/authority-token"}}, req: tokenReq},
		{name: "htu of another host", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"htu": "https://evil.example/oauth2/token"}}, req: tokenReq},
		{name: "htu over http for an https issuer", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"htu": "http://id.example.com/oauth2/token"}}, req: tokenReq},
		{name: "no htu", spec: proofSpec{alg: jwa.ES256, key: ec, claims: map[string]any{"htu": nil}}, req: tokenReq},
		{name: "iat 61 s old", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"iat": dpopNow.Add(-61 * time.Second).Unix()}}, req: tokenReq},
		{name: "iat 61 s ahead", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"iat": dpopNow.Add(61 * time.Second).Unix()}}, req: tokenReq},
		{name: "no iat", spec: proofSpec{alg: jwa.ES256, key: ec, claims: map[string]any{"iat": nil}}, req: tokenReq},
		{name: "iat a string", spec: proofSpec{alg: jwa.ES256, key: ec, claims: map[string]any{"iat": "now"}}, req: tokenReq},
		{name: "no jti", spec: proofSpec{alg: jwa.ES256, key: ec, claims: map[string]any{"jti": nil}}, req: tokenReq},
		{name: "empty jti", spec: proofSpec{alg: jwa.ES256, key: ec, claims: map[string]any{"jti": ""}}, req: tokenReq},
		{name: "no ath at a resource", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"htm": "GET", "htu": dpopIssuer + "/userinfo"}}, req: resourceReq},
		{name: "wrong ath", spec: proofSpec{alg: jwa.ES256, key: ec,
			claims: map[string]any{"htm": "GET", "htu": dpopIssuer + "/userinfo", "ath": athOf("another token")}}, req: resourceReq},
		{name: "not a JWS", jwt: "not-a-jws", req: tokenReq},
		{name: "JSON serialization", jwt: `{"payload":"e30","signatures":[]}`, req: tokenReq},
		{name: "overlong", jwt: strings.Repeat("a", 9000) + ".b.c", req: tokenReq},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDPoP(t, func() time.Time { return dpopNow })
			jwt := c.jwt
			if jwt == "" {
				jwt = makeProof(t, c.spec)
			}
			req := c.req
			req.JWT = jwt
			jkt, err := d.Verify(context.Background(), req)
			if c.ok {
				if err != nil || jkt == "" {
					t.Fatalf("valid proof refused: %v", err)
				}
				return
			}
			if !errors.Is(err, provider.ErrInvalidDPoPProof) || jkt != "" {
				t.Fatalf("Verify = %q, %v; want ErrInvalidDPoPProof", jkt, err)
			}
			t.Log(err)
		})
	}
}

// TestDPoPProofReplay: a proof's jti is accepted once (SEC-63), for as
// long as the proof could pass the iat check; the same jti under another
// key is another proof.
func TestDPoPProofReplay(t *testing.T) {
	now := dpopNow
	clock := func() time.Time { return now }
	d := newDPoP(t, clock)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	proof := makeProof(t, proofSpec{alg: jwa.ES256, key: ec, claims: map[string]any{"jti": "once"}})
	req := provider.DPoPProof{JWT: proof, Method: "POST", Path: "/oauth2/token"}
	ctx := context.Background()
	if _, err := d.Verify(ctx, req); err != nil {
		t.Fatalf("first use: %v", err)
	}
	now = now.Add(DPoPWindowForTest - time.Second)
	if _, err := d.Verify(ctx, req); !errors.Is(err, provider.ErrInvalidDPoPProof) {
		t.Fatalf("replay within the window: %v", err)
	}
	req.JWT = makeProof(t, proofSpec{alg: jwa.ES256, key: other, claims: map[string]any{"jti": "once"}})
	if _, err := d.Verify(ctx, req); err != nil {
		t.Fatalf("same jti, another key: %v", err)
	}
}

// DPoPWindowForTest keeps the test readable.
const DPoPWindowForTest = provider.DPoPWindow

// TestDPoPSignerMatchesVerifier: keys.DPoPSigner (tests, loadbench,
// README) makes proofs the verifier accepts, with the thumbprint the
// verifier computes, and discovery lists the verifier's algs.
func TestDPoPSignerMatchesVerifier(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := keys.NewDPoPSigner(ec, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	d := newDPoP(t, func() time.Time { return dpopNow })
	p, err := s.Proof("POST", dpopIssuer+"/authority-token", "", dpopNow)
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := d.Verify(context.Background(), provider.DPoPProof{JWT: p, Method: "POST", Path: "/authority-token"})
	if err != nil || jkt != s.JKT() {
		t.Fatalf("Verify = %q, %v; want %q", jkt, err, s.JKT())
	}
}
