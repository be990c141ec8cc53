package provider_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"user-registry/provider"
	"user-registry/storage/memstore"
)

const testIssuer = "https://id.example.test"

// assertionEnv is a ClientAuth with one private_key_jwt client holding an
// ES256 key (kid k1) and a fake clock shared by the claims and the nonce
// store.
type assertionEnv struct {
	auth   *provider.ClientAuth
	cs     *provider.Clients
	clk    *fakeClock
	key    testKey
	id     string
	secret string // of a secret-based client, for the mixed cases
	secID  string
}

func newAssertionEnv(t *testing.T) *assertionEnv {
	t.Helper()
	cs, _, clk, _ := newClients(t)
	nonces := memstore.New(memstore.WithClock(clk.Now))
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: cs, Issuer: testIssuer, Nonces: nonces, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &assertionEnv{auth: auth, cs: cs, clk: clk, key: newTestKey(t, jwa.ES256, "k1")}
	c, sec, err := cs.Create(t.Context(), provider.ClientSpec{Domain: "example.com", JWKS: jwksOf(t, e.key)})
	if err != nil {
		t.Fatal(err)
	}
	if sec != "" || len(c.SecretHash) != 0 {
		t.Fatalf("a private_key_jwt client got a secret %q", sec)
	}
	e.id = c.ID
	sc, secret, err := cs.Create(t.Context(), provider.ClientSpec{Domain: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e.secID, e.secret = sc.ID, secret
	return e
}

// claims returns valid assertion claims for client id at the clock's now.
func (e *assertionEnv) claims(id string) map[string]any {
	now := e.clk.Now()
	return map[string]any{"iss": id, "sub": id, "aud": testIssuer, "jti": base64.RawURLEncoding.EncodeToString(provider.RandomBytes(12)),
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix()}
}

func (e *assertionEnv) auth1(ctx context.Context, id, assertion string, use provider.ClientUse) error {
	c, err := e.auth.Authenticate(ctx, provider.ClientCredentials{ID: id, Method: provider.AuthPrivateKeyJWT,
		Assertion: assertion, Endpoint: "/oauth2/token"}, use)
	if err == nil && c.ID != e.id {
		return errors.New("authenticated " + c.ID)
	}
	return err
}

// TestClientAssertionAccepted: a good assertion authenticates its client
// on every use, with the issuer or the endpoint URL as aud, as a string
// or in an array, with or without client_id.
func TestClientAssertionAccepted(t *testing.T) {
	e := newAssertionEnv(t)
	ctx := t.Context()
	uses := []provider.ClientUse{provider.UseClientCredentials, provider.UseCodeGrant, provider.UseRevoke, provider.UseIntrospect}
	for _, tc := range []struct {
		name   string
		id     string
		modify func(map[string]any)
	}{
		{"aud issuer", "", func(map[string]any) {}},
		{"with client_id", e.id, func(map[string]any) {}},
		{"aud endpoint URL", "", func(c map[string]any) { c["aud"] = testIssuer + "/oauth2/token" }},
		{"aud array", "", func(c map[string]any) { c["aud"] = []string{"https://other.example", testIssuer} }},
		{"exp 5 min ahead", "", func(c map[string]any) { c["exp"] = e.clk.Now().Add(5 * time.Minute).Unix() }},
		{"no iat", "", func(c map[string]any) { delete(c, "iat") }},
	} {
		for _, use := range uses {
			c := e.claims(e.id)
			tc.modify(c)
			if err := e.auth1(ctx, tc.id, signJWT(t, e.key, c, nil), use); err != nil {
				t.Errorf("%s (use %d): %v", tc.name, use, err)
			}
		}
	}
}

// TestClientAssertionAlgs: each accepted alg verifies with a registered
// key of its kind, with a kid or, without one, by trying the registered
// keys that fit the alg.
func TestClientAssertionAlgs(t *testing.T) {
	e := newAssertionEnv(t)
	ctx := t.Context()
	var ks []testKey
	for _, alg := range []jwa.SignatureAlgorithm{jwa.ES256, jwa.ES384, jwa.RS256, jwa.PS256, jwa.EdDSA} {
		ks = append(ks, newTestKey(t, alg, "kid-"+alg.String()))
	}
	c, _, err := e.cs.Create(ctx, provider.ClientSpec{Domain: "example.com", JWKS: jwksOf(t, ks...)})
	if err != nil {
		t.Fatal(err)
	}
	e.id = c.ID
	for _, k := range ks {
		for _, kid := range []any{nil, ""} {
			var extra map[string]any
			if kid != nil {
				extra = map[string]any{"kid": ""}
			}
			if err := e.auth1(ctx, "", signJWT(t, k, e.claims(c.ID), extra), provider.UseClientCredentials); err != nil {
				t.Errorf("%s (kid dropped %v): %v", k.alg, kid != nil, err)
			}
		}
	}
}

// TestClientAssertionRefused is the refusal table of SEC-60: each is
// invalid_client (ErrBadClient), whatever the use.
func TestClientAssertionRefused(t *testing.T) {
	e := newAssertionEnv(t)
	ctx := t.Context()
	attacker := newTestKey(t, jwa.ES256, "k1") // same kid, not registered
	other, _, err := e.cs.Create(ctx, provider.ClientSpec{Domain: "other.example", JWKS: jwksOf(t, newTestKey(t, jwa.ES256, "o1"))})
	if err != nil {
		t.Fatal(err)
	}
	// A jku the server must never fetch.
	var jkuHits atomic.Int32
	jku := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		jkuHits.Add(1)
		w.Write(jwksOf(t, attacker))
	}))
	defer jku.Close()

	replayed := signJWT(t, e.key, e.claims(e.id), nil)
	if err := e.auth1(ctx, "", replayed, provider.UseClientCredentials); err != nil {
		t.Fatalf("first use: %v", err)
	}
	with := func(f func(map[string]any)) map[string]any { c := e.claims(e.id); f(c); return c }
	now := e.clk.Now()
	cases := []struct {
		name, id, assertion string
	}{
		{"replayed jti", "", replayed},
		{"alg none", "", unsignedJWT(e.claims(e.id))},
		{"HS256 keyed with the public JWKS", "", signHS256(t, jwksOf(t, e.key), "k1", e.claims(e.id))},
		{"header jwk, no kid", "", signJWT(t, attacker, e.claims(e.id), map[string]any{"jwk": attacker.pub, "kid": ""})},
		{"header jwk with the registered kid", "", signJWT(t, attacker, e.claims(e.id), map[string]any{"jwk": attacker.pub})},
		{"header jku", "", signJWT(t, attacker, e.claims(e.id), map[string]any{"jku": jku.URL, "kid": "x"})},
		{"header x5u", "", signJWT(t, attacker, e.claims(e.id), map[string]any{"x5u": jku.URL})},
		{"unregistered key", "", signJWT(t, attacker, e.claims(e.id), nil)},
		{"unknown kid", "", signJWT(t, newTestKey(t, jwa.ES256, "k9"), e.claims(e.id), nil)},
		{"another client's key", "", signJWT(t, e.key, e.claims(other.ID), nil)},
		{"wrong aud", "", signJWT(t, e.key, with(func(c map[string]any) { c["aud"] = "https://other.example" }), nil)},
		{"aud another endpoint", "", signJWT(t, e.key, with(func(c map[string]any) { c["aud"] = testIssuer + "/oauth2/revoke" }), nil)},
		{"no aud", "", signJWT(t, e.key, with(func(c map[string]any) { delete(c, "aud") }), nil)},
		{"exp over 5 min ahead", "", signJWT(t, e.key, with(func(c map[string]any) { c["exp"] = now.Add(6 * time.Minute).Unix() }), nil)},
		{"exp an hour ahead", "", signJWT(t, e.key, with(func(c map[string]any) { c["exp"] = now.Add(time.Hour).Unix() }), nil)},
		{"no exp", "", signJWT(t, e.key, with(func(c map[string]any) { delete(c, "exp") }), nil)},
		{"expired", "", signJWT(t, e.key, with(func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }), nil)},
		{"nbf in the future", "", signJWT(t, e.key, with(func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() }), nil)},
		{"iss differs from sub", "", signJWT(t, e.key, with(func(c map[string]any) { c["iss"] = other.ID }), nil)},
		{"sub another client", "", signJWT(t, e.key, with(func(c map[string]any) { c["sub"], c["iss"] = other.ID, other.ID }), nil)},
		{"client_id differs", other.ID, signJWT(t, e.key, e.claims(e.id), nil)},
		{"no jti", "", signJWT(t, e.key, with(func(c map[string]any) { delete(c, "jti") }), nil)},
		{"client without keys", "", signJWT(t, e.key, e.claims(e.secID), nil)},
		{"garbage", "", "not.a.jwt"},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		for _, use := range []provider.ClientUse{provider.UseClientCredentials, provider.UseIntrospect} {
			err := e.auth1(ctx, tc.id, tc.assertion, use)
			if !errors.Is(err, provider.ErrBadClient) {
				t.Errorf("%s (use %d): err = %v, want ErrBadClient", tc.name, use, err)
			}
		}
	}
	if n := jkuHits.Load(); n != 0 {
		t.Errorf("the jku URL was fetched %d times", n)
	}
	// The secret client still works with its secret: one method does not
	// disturb the other.
	if _, err := e.auth.Authenticate(ctx, provider.ClientCredentials{ID: e.secID, Secret: e.secret,
		Method: provider.AuthSecretBasic}, provider.UseClientCredentials); err != nil {
		t.Errorf("secret client: %v", err)
	}
	// And the key client has no secret that could work.
	if _, err := e.auth.Authenticate(ctx, provider.ClientCredentials{ID: e.id, Secret: "",
		Method: provider.AuthSecretBasic}, provider.UseClientCredentials); !errors.Is(err, provider.ErrBadClient) {
		t.Errorf("key client with an empty secret: %v", err)
	}
}

// TestClientAssertionReplayAfterExpiry: the jti is remembered until exp;
// the replay of an expired assertion fails on exp itself.
func TestClientAssertionReplayAfterExpiry(t *testing.T) {
	e := newAssertionEnv(t)
	ctx := t.Context()
	a := signJWT(t, e.key, e.claims(e.id), nil)
	if err := e.auth1(ctx, "", a, provider.UseClientCredentials); err != nil {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{time.Minute, 2 * time.Minute} {
		e.clk.Advance(step)
		if err := e.auth1(ctx, "", a, provider.UseClientCredentials); !errors.Is(err, provider.ErrBadClient) {
			t.Fatalf("after %v: %v, want ErrBadClient", step, err)
		}
	}
}

// TestCreateClientKeys: the keys a client may register (SEC-60, SEC-61).
func TestCreateClientKeys(t *testing.T) {
	cs, _, _, _ := newClients(t)
	ec := newTestKey(t, jwa.ES256, "a")
	priv := newTestKey(t, jwa.ES256, "p")
	privJWK, _ := jwkFromPrivate(t, priv)
	for _, tc := range []struct {
		name string
		spec provider.ClientSpec
		ok   bool
	}{
		{"inline", provider.ClientSpec{JWKS: jwksOf(t, ec)}, true},
		{"https URI", provider.ClientSpec{JWKSURI: "https://ci.example/jwks.json"}, true},
		{"loopback http URI", provider.ClientSpec{JWKSURI: "http://127.0.0.1:9999/jwks.json"}, true},
		{"plain http URI", provider.ClientSpec{JWKSURI: "http://ci.example/jwks.json"}, false},
		{"file URI", provider.ClientSpec{JWKSURI: "file:///etc/passwd"}, false},
		{"both", provider.ClientSpec{JWKS: jwksOf(t, ec), JWKSURI: "https://ci.example/jwks.json"}, false},
		{"public with keys", provider.ClientSpec{JWKS: jwksOf(t, ec), Public: true, GrantTypes: []string{"authorization_code"}}, false},
		{"private key", provider.ClientSpec{JWKS: privJWK}, false},
		{"symmetric key", provider.ClientSpec{JWKS: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)}, false},
		{"empty set", provider.ClientSpec{JWKS: []byte(`{"keys":[]}`)}, false},
		{"a single key, not a set", provider.ClientSpec{JWKS: mustJSON(t, ec.pub)}, false},
		{"HS256 alg", provider.ClientSpec{JWKS: []byte(`{"keys":[{"kty":"EC","alg":"HS256","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)}, false},
		{"not JSON", provider.ClientSpec{JWKS: []byte(`keys`)}, false},
	} {
		tc.spec.Domain = "example.com"
		c, secret, err := cs.Create(t.Context(), tc.spec)
		if tc.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
			continue
		}
		if err != nil && !errors.Is(err, provider.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", tc.name, err)
		}
		if err == nil && (secret != "" || len(c.SecretHash) != 0) {
			t.Errorf("%s: the client got a secret", tc.name)
		}
	}
}
