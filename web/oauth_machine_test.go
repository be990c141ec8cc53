package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/sqlstore"
)

// withMachineClients is withClients plus private_key_jwt (the env's
// ephemeral store holds the jti) and the token-exchange grant.
func withMachineClients() envOption {
	return func(c *Config, a *provider.AccountsConfig) {
		withClients("0")(c, a)
		auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: c.Clients, Issuer: c.Issuer,
			Nonces: c.Ready["sessions"].(storage.NonceStore)})
		if err != nil {
			panic(err)
		}
		c.ClientAuth = auth
		db := c.DomainAdmin.Store.(*sqlstore.Store)
		if c.Federation, err = provider.NewFederation(provider.FederationDeps{Store: db, Issuer: c.Issuer,
			Tokens: c.Tokens.(*keys.Tokens), Policy: c.Policy}); err != nil {
			panic(err)
		}
	}
}

// ecSigner is a client's ES256 key and the JWK Set of its public half.
type ecSigner struct {
	priv *ecdsa.PrivateKey
	jwks []byte
}

func newECSigner(t testing.TB) ecSigner {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := jwk.FromRaw(priv.Public())
	_ = pub.Set(jwk.KeyIDKey, "k1")
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	b, _ := json.Marshal(set)
	return ecSigner{priv: priv, jwks: b}
}

// assertion signs a client assertion for client id and audience aud.
func (s ecSigner) assertion(t testing.TB, id, aud string) string {
	t.Helper()
	now := time.Now()
	jti := make([]byte, 12)
	rand.Read(jti)
	payload, _ := json.Marshal(map[string]any{"iss": id, "sub": id, "aud": aud, "jti": jti,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, "k1")
	tok, err := jws.Sign(payload, jws.WithKey(jwa.ES256, s.priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// TestPrivateKeyJWTClientCredentials: golang.org/x/oauth2/clientcredentials
// gets an authority token with private_key_jwt through EndpointParams, on
// both backends; the same assertion a second time is invalid_client
// (SEC-60), and the assertion authenticates /authority-token (JSON),
// /oauth2/introspect and /oauth2/revoke too.
func TestPrivateKeyJWTClientCredentials(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			env := newTestEnv(t, backend, withMachineClients())
			e := oauthEnv{env, env.Config.Clients}
			signer := newECSigner(t)
			id, secret := e.client(t, provider.ClientSpec{Domain: "ci.example", Scopes: []string{"deploy"}, JWKS: signer.jwks})
			if secret != "" {
				t.Fatalf("a private_key_jwt client got a secret")
			}
			issuer := env.Config.Issuer
			assertion := signer.assertion(t, id, issuer)
			cfg := clientcredentials.Config{
				ClientID: id, TokenURL: env.Server.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams,
				EndpointParams: url.Values{"client_assertion_type": {provider.ClientAssertionType}, "client_assertion": {assertion}},
			}
			tok, err := cfg.Token(context.Background())
			if err != nil {
				t.Fatalf("clientcredentials: %v", err)
			}
			claims, err := env.Tokens.VerifyAccess(context.Background(), tok.AccessToken, "")
			if err != nil || claims.ClientID != id || claims.Domain != "ci.example" || claims.Scope != "deploy" {
				t.Fatalf("token claims %+v, %v", claims, err)
			}
			// SEC-60: the same jti again.
			if _, err := cfg.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Fatalf("replayed assertion: %v, want invalid_client", err)
			}

			form := func(aud string, extra url.Values) string {
				v := url.Values{"client_assertion_type": {provider.ClientAssertionType}, "client_assertion": {signer.assertion(t, id, aud)}}
				for k, vs := range extra {
					v[k] = vs
				}
				return v.Encode()
			}
			const formCT = "application/x-www-form-urlencoded"
			body, _ := json.Marshal(map[string]string{"client_assertion_type": provider.ClientAssertionType,
				"client_assertion": signer.assertion(t, id, issuer+"/authority-token")})
			if a := e.post(t, "/authority-token", string(body), "application/json", nil); a.status != 200 || a.json["domain"] != "ci.example" {
				t.Fatalf("/authority-token with an assertion (aud = endpoint URL): %d %s", a.status, a.body)
			}
			if a := e.post(t, "/oauth2/introspect", form(issuer, url.Values{"token": {tok.AccessToken}}), formCT, nil); a.status != 200 || a.json["active"] != true {
				t.Fatalf("introspect with an assertion: %d %s", a.status, a.body)
			}
			if a := e.post(t, "/oauth2/revoke", form(issuer+"/oauth2/revoke", url.Values{"token": {tok.AccessToken}}), formCT, nil); a.status != 200 {
				t.Fatalf("revoke with an assertion: %d %s", a.status, a.body)
			}
			for _, tc := range []struct {
				name, body string
				edit       func(*http.Request)
				status     int
				code       string
			}{
				{"aud of another endpoint", form(issuer+"/oauth2/revoke", url.Values{"grant_type": {"client_credentials"}}), nil, 401, "invalid_client"},
				{"wrong assertion type", strings.Replace(form(issuer, url.Values{"grant_type": {"client_credentials"}}), "jwt-bearer", "saml2-bearer", 1), nil, 401, "invalid_client"},
				{"assertion and Basic", form(issuer, url.Values{"grant_type": {"client_credentials"}}), func(r *http.Request) { r.SetBasicAuth(id, "x") }, 400, "invalid_request"},
				{"assertion and client_secret", form(issuer, url.Values{"grant_type": {"client_credentials"}, "client_secret": {"x"}}), nil, 400, "invalid_request"},
			} {
				a := e.post(t, "/oauth2/token", tc.body, formCT, tc.edit)
				if a.status != tc.status || a.json["error"] != tc.code {
					t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
				}
			}
		})
	}
}

// TestClientsCreateWithJWKS: a user registers a private_key_jwt client
// with inline keys and gets no secret; a URL is refused (SEC-61), as are
// keys that are not a public key set.
func TestClientsCreateWithJWKS(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory", withMachineClients())
	e := oauthEnv{env, env.Config.Clients}
	_, user := e.apiUser(t, "ann@ci.example")
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+user) }
	signer := newECSigner(t)
	a := e.post(t, "/clients", `{"name":"ci","jwks":`+string(signer.jwks)+`}`, "application/json", bearer)
	if a.status != 201 {
		t.Fatalf("POST /clients with jwks: %d %s", a.status, a.body)
	}
	if _, has := a.json["client_secret"]; has {
		t.Fatalf("a private_key_jwt client got a secret: %s", a.body)
	}
	id := a.json["client_id"].(string)
	cfg := clientcredentials.Config{ClientID: id, TokenURL: env.Server.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: url.Values{"client_assertion_type": {provider.ClientAssertionType}, "client_assertion": {signer.assertion(t, id, env.Config.Issuer)}}}
	if _, err := cfg.Token(context.Background()); err != nil {
		t.Fatalf("token for the user's key client: %v", err)
	}
	for name, body := range map[string]string{
		"jwks_uri (SEC-61)": `{"name":"ci","jwks_uri":"https://ci.example/jwks.json"}`,
		"jwks as a URL":     `{"jwks":"https://ci.example/jwks.json"}`,
		"symmetric key":     `{"jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}`,
		"empty set":         `{"jwks":{"keys":[]}}`,
	} {
		if a := e.post(t, "/clients", body, "application/json", bearer); a.status != 400 {
			t.Errorf("%s: %d %s, want 400", name, a.status, a.body)
		}
	}
}

// TestTokenExchangeEndpoint: POST /oauth2/token with the token-exchange
// grant answers the RFC 8693 §2.2 fields and the domain; a refusal is a
// plain invalid_grant.
func TestTokenExchangeEndpoint(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory", withMachineClients())
	e := oauthEnv{env, env.Config.Clients}
	outside := newECSigner(t)
	var issURL string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": issURL, "jwks_uri": issURL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(outside.jwks) })
	iss := httptest.NewServer(mux)
	defer iss.Close()
	issURL = iss.URL
	trust, err := env.Config.Federation.Add(context.Background(), provider.TrustSpec{Domain: "ci.example", Issuer: issURL,
		Subject: "repo:acme/*:ref:refs/heads/main", Scopes: []string{"deploy"}})
	if err != nil {
		t.Fatal(err)
	}
	subject := func(sub string) string {
		now := time.Now()
		payload, _ := json.Marshal(map[string]any{"iss": issURL, "sub": sub, "aud": env.Config.Issuer,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
		h := jws.NewHeaders()
		_ = h.Set(jws.KeyIDKey, "k1")
		tok, _ := jws.Sign(payload, jws.WithKey(jwa.ES256, outside.priv, jws.WithProtectedHeaders(h)))
		return string(tok)
	}
	exchange := func(sub string) answer {
		return e.post(t, "/oauth2/token", url.Values{"grant_type": {provider.GrantTokenExchange},
			"subject_token": {subject(sub)}, "subject_token_type": {provider.TokenTypeJWT}}.Encode(),
			"application/x-www-form-urlencoded", nil)
	}
	a := exchange("repo:acme/app:ref:refs/heads/main")
	if a.status != 200 {
		t.Fatalf("exchange: %d %s", a.status, a.body)
	}
	want := map[string]any{"issued_token_type": provider.TokenTypeAccessToken, "token_type": "Bearer",
		"expires_in": float64(600), "scope": "deploy", "domain": "ci.example"}
	for k, v := range want {
		if a.json[k] != v {
			t.Errorf("%s = %v, want %v", k, a.json[k], v)
		}
	}
	if len(a.json) != 6 || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("answer %s, Cache-Control %q", a.body, a.header.Get("Cache-Control"))
	}
	claims, err := env.Tokens.VerifyAccess(context.Background(), a.json["access_token"].(string), "")
	if err != nil || claims.Subject != "repo:acme/app:ref:refs/heads/main" || claims.ClientID != trust.ID {
		t.Fatalf("claims %+v, %v", claims, err)
	}
	refused := exchange("repo:acme/app:ref:refs/heads/main-evil")
	if refused.status != 400 || refused.json["error"] != "invalid_grant" ||
		refused.json["error_description"] != provider.Message(provider.ErrExchangeRefused) {
		t.Fatalf("refused exchange: %d %s", refused.status, refused.body)
	}
	// /authority-token does not offer the grant.
	if a := e.post(t, "/authority-token", url.Values{"grant_type": {provider.GrantTokenExchange}}.Encode(),
		"application/x-www-form-urlencoded", nil); a.json["error"] != "unsupported_grant_type" {
		t.Errorf("/authority-token token exchange: %d %s", a.status, a.body)
	}
}
