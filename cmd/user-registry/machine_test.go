package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"user-registry/storage/sqlstore/sqltest"
)

// machineKey is an ES256 key, written as a JWK Set file of its public
// half, that signs client assertions and outside tokens.
type machineKey struct {
	priv *ecdsa.PrivateKey
	jwks []byte
	file string
}

func newMachineKey(t *testing.T) machineKey {
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
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return machineKey{priv: priv, jwks: b, file: file}
}

// sign signs claims (iat and exp in 2 min added, a fresh jti unless set).
func (k machineKey) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	now := time.Now()
	claims["iat"], claims["exp"] = now.Unix(), now.Add(2*time.Minute).Unix()
	if _, ok := claims["jti"]; !ok {
		claims["jti"] = keySecretArg()[13:]
	}
	payload, _ := json.Marshal(claims)
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, "k1")
	tok, err := jws.Sign(payload, jws.WithKey(jwa.ES256, k.priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func postForm(t *testing.T, url string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(url, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func assertionForm(assertion string) url.Values {
	return url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
}

// TestMachineClientsCLI: clients create --jwks prints no secret and its
// client gets tokens with private_key_jwt from a running server; federation
// add|list|remove manage the trusts a running server exchanges outside
// tokens under (SPEC §11).
func TestMachineClientsCLI(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			base := serve(t, nil, b.args...)
			key := newMachineKey(t)
			out, errOut, code := cli(t, nil, append([]string{"clients", "create", "--domain", "ci.example", "--jwks", key.file}, b.args...)...)
			if code != 0 {
				t.Fatalf("clients create --jwks: %d %s", code, errOut)
			}
			var created map[string]any
			if err := json.Unmarshal([]byte(out), &created); err != nil {
				t.Fatal(err)
			}
			if _, has := created["client_secret"]; has {
				t.Fatalf("a private_key_jwt client got a secret: %s", out)
			}
			id := created["client_id"].(string)
			if code, body := postForm(t, base+"/oauth2/token", assertionForm(key.sign(t, map[string]any{"iss": id, "sub": id, "aud": base}))); code != 200 || body["domain"] != "ci.example" {
				t.Fatalf("token with an assertion: %d %v", code, body)
			}
			for name, args := range map[string][]string{
				"both":       {"clients", "create", "--domain", "ci.example", "--jwks", key.file, "--jwks-uri", "https://ci.example/jwks"},
				"plain http": {"clients", "create", "--domain", "ci.example", "--jwks-uri", "http://ci.example/jwks"},
				"no file":    {"clients", "create", "--domain", "ci.example", "--jwks", key.file + ".missing"},
			} {
				if _, _, code := cli(t, nil, append(args, b.args...)...); code != 1 {
					t.Errorf("clients create %s: exit %d, want 1", name, code)
				}
			}

			// An outside issuer (a CI system) on loopback http.
			outside := newMachineKey(t)
			var issURL string
			mux := http.NewServeMux()
			mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
				json.NewEncoder(w).Encode(map[string]string{"issuer": issURL, "jwks_uri": issURL + "/jwks"})
			})
			mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(outside.jwks) })
			iss := httptest.NewServer(mux)
			defer iss.Close()
			issURL = iss.URL
			out, errOut, code = cli(t, nil, append([]string{"federation", "add", "--domain", "CI.example", "--issuer", issURL,
				"--subject", "repo:acme/*:ref:refs/heads/main", "--scope", "deploy", "--scope", "read"}, b.args...)...)
			if code != 0 {
				t.Fatalf("federation add: %d %s", code, errOut)
			}
			var trust map[string]any
			if err := json.Unmarshal([]byte(out), &trust); err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(trust))
			for k := range trust {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if strings.Join(keys, ",") != "audience,domain,id,issuer,scopes,subject" || trust["domain"] != "ci.example" ||
				trust["issuer"] != issURL || trust["subject"] != "repo:acme/*:ref:refs/heads/main" {
				t.Fatalf("federation add printed %s", out)
			}
			trustID := trust["id"].(string)
			out, _, _ = cli(t, nil, append([]string{"federation", "list", "--json"}, b.args...)...)
			var list struct{ Trusts []map[string]any }
			if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Trusts) != 1 || list.Trusts[0]["id"] != trustID {
				t.Fatalf("federation list --json: %s (%v)", out, err)
			}
			exchange := func() (int, map[string]any) {
				return postForm(t, base+"/oauth2/token", url.Values{
					"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
					"subject_token":      {outside.sign(t, map[string]any{"iss": issURL, "sub": "repo:acme/app:ref:refs/heads/main", "aud": base})},
					"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"},
				})
			}
			eventually(t, 6*time.Second, "the server exchanges under the new trust", func() bool {
				code, body := exchange()
				return code == 200 && body["domain"] == "ci.example" && body["scope"] == "deploy read"
			})
			if _, errOut, code := cli(t, nil, append([]string{"federation", "remove", trustID}, b.args...)...); code != 0 {
				t.Fatalf("federation remove: %s", errOut)
			}
			eventually(t, 6*time.Second, "the server stops exchanging under a removed trust", func() bool {
				code, body := exchange()
				return code == 400 && body["error"] == "invalid_grant"
			})
			if _, _, code := cli(t, nil, append([]string{"federation", "remove", trustID}, b.args...)...); code != 1 {
				t.Errorf("removing a missing trust: exit %d, want 1", code)
			}
		})
	}
}

// TestMachineTwoNodes: a client assertion used on node A is refused on
// node B: its jti is held in the Redis both share (SPEC §11, SEC-60).
func TestMachineTwoNodes(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	secret := keySecretArg()
	const issuer = "http://registry.test"
	args := []string{"--db", db, "--redis", redisURL, secret, "--issuer", issuer}
	a, b := startServer(t, nil, args...), startServer(t, nil, args...)
	key := newMachineKey(t)
	out, errOut, code := cli(t, nil, "clients", "create", "--domain", "ci.example", "--jwks", key.file, "--db", db, secret)
	if code != 0 {
		t.Fatalf("clients create: %s", errOut)
	}
	var created map[string]any
	_ = json.Unmarshal([]byte(out), &created)
	id := created["client_id"].(string)
	assertion := key.sign(t, map[string]any{"iss": id, "sub": id, "aud": issuer})
	if code, body := postForm(t, a.base+"/oauth2/token", assertionForm(assertion)); code != 200 {
		t.Fatalf("assertion on A: %d %v", code, body)
	}
	if code, body := postForm(t, b.base+"/oauth2/token", assertionForm(assertion)); code != 401 || body["error"] != "invalid_client" {
		t.Fatalf("the same assertion on B: %d %v, want 401 invalid_client", code, body)
	}
	fresh := key.sign(t, map[string]any{"iss": id, "sub": id, "aud": issuer})
	if code, body := postForm(t, b.base+"/oauth2/token", assertionForm(fresh)); code != 200 {
		t.Fatalf("a fresh assertion on B: %d %v", code, body)
	}
}
