package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/sqlstore"
)

// withClients wires a provider.Clients and its provider.ClientAuth, with
// the per-client limit (N/DURATION, "0" = off), into the test server, over
// the env's database, policy and token service.
func withClients(limit string) envOption {
	key := make([]byte, 32)
	rand.Read(key)
	return func(c *Config, _ *provider.AccountsConfig) {
		db := c.DomainAdmin.Store.(*sqlstore.Store) // the env's database
		c.Clients = provider.NewClients(db, db, c.Policy, c.Tokens.(*keys.Tokens), key, nil)
		// DPoP proofs' jti go to the env's ephemeral store (memory or Redis).
		dpop, err := provider.NewDPoP(provider.DPoPDeps{Nonces: c.Ready["sessions"].(storage.NonceStore), Issuer: c.Issuer})
		if err != nil {
			panic(err)
		}
		auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: c.Clients, Limit: envLimiter(c, limit), DPoP: dpop})
		if err != nil {
			panic(err)
		}
		c.ClientAuth, c.DPoP = auth, dpop
		if c.SecretRotation, err = provider.NewSecretRotation(provider.SecretRotationDeps{Clients: c.Clients}); err != nil {
			panic(err)
		}
	}
}

// oauthEnv is a test server with clients.
type oauthEnv struct {
	*testEnv
	clients *provider.Clients
}

func newOAuthEnv(t testing.TB, backend, limit string) oauthEnv {
	t.Helper()
	env := newTestEnv(t, backend, withClients(limit))
	return oauthEnv{env, env.Config.Clients}
}

// client registers a client and returns its id and secret.
func (e oauthEnv) client(t testing.TB, spec provider.ClientSpec) (string, string) {
	t.Helper()
	c, secret, err := e.clients.Create(context.Background(), spec)
	if err != nil {
		t.Fatalf("create client %+v: %v", spec, err)
	}
	return c.ID, secret
}

// userToken mints a user access token as /login would.
func (e oauthEnv) userToken(t *testing.T, email string) string {
	t.Helper()
	domain := email[strings.IndexByte(email, '@')+1:]
	tok, _, err := e.Tokens.MintAccess(context.Background(), keys.AccessClaims{
		Subject: "u-" + domain, Email: email, Domain: domain, ClientID: "user-registry", Scope: "openid email phone",
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// authorityToken gets a token for a client through the endpoint.
func (e oauthEnv) authorityToken(t *testing.T, id, secret string) string {
	t.Helper()
	resp := e.post(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}.Encode(),
		"application/x-www-form-urlencoded", func(r *http.Request) { r.SetBasicAuth(id, secret) })
	if resp.status != 200 {
		t.Fatalf("token for %s: %d %s", id, resp.status, resp.body)
	}
	return resp.json["access_token"].(string)
}

type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a request to the test server; edit adjusts it (headers).
func (e oauthEnv) do(t testing.TB, method, path, body, contentType string, edit func(*http.Request)) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.Server.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &a.json); err != nil {
			t.Fatalf("%s %s: not JSON: %q", method, path, b)
		}
	}
	return a
}

func (e oauthEnv) post(t testing.TB, path, body, contentType string, edit func(*http.Request)) answer {
	t.Helper()
	return e.do(t, http.MethodPost, path, body, contentType, edit)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
