package keys_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

func TestJWKSPublicOnly(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			if err := e.m.Rotate(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			body, etag := e.m.JWKS()
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal(body, &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 2 || etag == "" {
				t.Fatalf("jwks = %s etag %q", body, etag)
			}
			for _, k := range set.Keys {
				for _, p := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
					if _, ok := k[p]; ok {
						t.Errorf("private parameter %q published", p)
					}
				}
				if k["kid"] == "" || k["alg"] != alg || k["use"] != "sig" {
					t.Errorf("key %v lacks kid/alg/use", k)
				}
			}
			if got := e.m.Algs(); len(got) != 1 || got[0] != alg {
				t.Errorf("Algs = %v", got)
			}
		})
	}
}

func TestPrivateKeysEncryptedAtRest(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			rows, err := e.store.ListKeys(context.Background())
			if err != nil || len(rows) != 1 {
				t.Fatal(rows, err)
			}
			priv := keys.SigningPrivate(e.m)
			der, _ := x509.MarshalPKCS8PrivateKey(priv)
			var raw []byte
			switch k := priv.(type) {
			case *ecdsa.PrivateKey:
				raw, _ = k.Bytes()
			case *rsa.PrivateKey:
				raw = k.Primes[0].Bytes()
			case ed25519.PrivateKey:
				raw = k.Seed()
			}
			for _, needle := range [][]byte{der, raw, []byte(base64.RawURLEncoding.EncodeToString(raw))} {
				if bytes.Contains(rows[0].Private, needle) {
					t.Fatal("stored private key contains the raw key")
				}
			}
			if bytes.Contains(rows[0].Public, []byte(`"d"`)) {
				t.Fatal("public JWK has a private parameter")
			}
		})
	}
}

func TestWrongSecretCannotSign(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	tok, _ := mint(t, e.tokens, userClaims())
	m, err := keys.NewManager(e.store, keys.Config{Secret: secret(t), Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(ctx); err == nil {
		t.Fatal("keys opened with the wrong secret")
	}
	tk := keys.NewTokens(m, e.store, keys.TokenConfig{Issuer: issuer})
	if _, _, err := tk.MintAccess(ctx, userClaims()); !errors.Is(err, keys.ErrNoSigningKey) {
		t.Fatalf("minted with an undecryptable key: %v", err)
	}
	// Public keys still verify the other node's tokens.
	if _, err := tk.VerifyAccess(ctx, tok, ""); err != nil {
		t.Fatalf("verification needs no secret: %v", err)
	}
}

func TestNewManagerConfig(t *testing.T) {
	store := memstore.New()
	for _, cfg := range []keys.Config{
		{Secret: make([]byte, 16)},
		{Secret: make([]byte, 32), Alg: "HS256"},
		{Secret: make([]byte, 32), Alg: "none"},
	} {
		if _, err := keys.NewManager(store, cfg); err == nil {
			t.Errorf("config %+v accepted", cfg.Alg)
		}
	}
}

// countingStore counts ListKeys calls.
type countingStore struct {
	*memstore.Store
	lists int
}

func (c *countingStore) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	c.lists++
	return c.Store.ListKeys(ctx)
}

func TestUnknownKidReloadIsRateLimited(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	cs := &countingStore{Store: e.store}
	m, err := keys.NewManager(cs, keys.Config{Secret: secret(t), Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(ctx); err == nil {
		t.Fatal("expected a decrypt error with a foreign secret")
	}
	tk := keys.NewTokens(m, e.store, keys.TokenConfig{Issuer: issuer, Now: e.clk.Now})
	hdr := `{"alg":"ES256","kid":"KID","typ":"at+jwt"}`
	claims := jsonOf(t, validClaims(e.clk.Now()))
	before := cs.lists
	for i := 0; i < 50; i++ {
		forged := keys.SignRaw(e.m, []byte(strings.Replace(hdr, "KID", "unknown-"+string(rune('a'+i%26)), 1)), claims)
		if _, err := tk.VerifyAccess(ctx, forged, ""); !errors.Is(err, keys.ErrInvalidToken) {
			t.Fatal(err)
		}
	}
	if got := cs.lists - before; got != 1 {
		t.Fatalf("%d reloads for 50 unknown kids, want 1", got)
	}
	e.clk.Advance(5 * time.Second)
	forged := keys.SignRaw(e.m, []byte(strings.Replace(hdr, "KID", "zzz", 1)), claims)
	_, _ = tk.VerifyAccess(ctx, forged, "")
	if got := cs.lists - before; got != 2 {
		t.Fatalf("%d reloads after the interval, want 2", got)
	}
}

func TestDiscovery(t *testing.T) {
	body, err := keys.Discovery("https://id.example.test", []string{"ES256", "RS256"})
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	if err := json.Unmarshal(body, &md); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"issuer":                 "https://id.example.test",
		"jwks_uri":               "https://id.example.test/.well-known/jwks.json",
		"authorization_endpoint": "https://id.example.test/oauth2/authorize",
		"token_endpoint":         "https://id.example.test/oauth2/token",
		"revocation_endpoint":    "https://id.example.test/oauth2/revoke",
		"introspection_endpoint": "https://id.example.test/oauth2/introspect",
		"userinfo_endpoint":      "https://id.example.test/userinfo",
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("%s = %v, want %v", k, md[k], v)
		}
	}
	s := string(body)
	if strings.Contains(strings.ToLower(s), `"none"]`) && !strings.Contains(s, `"client_secret_post","none"]`) {
		t.Error("none alg advertised")
	}
	for _, bad := range []string{"plain", "password", "implicit", "token id_token", `"HS256"`} {
		if strings.Contains(s, bad) {
			t.Errorf("discovery mentions %q", bad)
		}
	}
	if algs := md["id_token_signing_alg_values_supported"].([]any); len(algs) != 2 {
		t.Errorf("algs = %v", algs)
	}
	if _, err := keys.Discovery("https://x", []string{"none"}); err == nil {
		t.Error("alg none accepted")
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32)
	for _, v := range []string{base64.StdEncoding.EncodeToString(raw), base64.URLEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw)} {
		got, created, err := keys.LoadOrCreateSecret(v, "")
		if err != nil || created || !bytes.Equal(got, raw) {
			t.Errorf("%q: %x %v %v", v, got, created, err)
		}
	}
	for _, v := range []string{"short", base64.StdEncoding.EncodeToString(raw[:16]), "!!!"} {
		if _, _, err := keys.LoadOrCreateSecret(v, ""); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
	if _, _, err := keys.LoadOrCreateSecret("", ""); err == nil {
		t.Error("no secret and no path accepted")
	}

	db := filepath.Join(t.TempDir(), "reg.db")
	s1, created, err := keys.LoadOrCreateSecret("", db)
	if err != nil || !created || len(s1) != 32 {
		t.Fatal(s1, created, err)
	}
	fi, err := os.Stat(db + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	s2, created, err := keys.LoadOrCreateSecret("", db)
	if err != nil || created || !bytes.Equal(s1, s2) {
		t.Fatal("second load differs or recreated")
	}
}

// TestLoadOrCreateSecretConcurrent: processes starting at once on a fresh
// SQLite database must all get the one generated secret, never read a key
// file another process has created but not yet written.
func TestLoadOrCreateSecretConcurrent(t *testing.T) {
	for range 50 {
		db := filepath.Join(t.TempDir(), "reg.db")
		const n = 8
		got := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], _, errs[i] = keys.LoadOrCreateSecret("", db) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("concurrent LoadOrCreateSecret: %v", errs[i])
			}
			if !bytes.Equal(got[i], got[0]) {
				t.Fatal("concurrent LoadOrCreateSecret returned different secrets")
			}
		}
	}
}
