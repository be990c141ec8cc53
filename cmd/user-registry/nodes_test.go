package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"user-registry/storage/sqlstore/sqltest"
	"user-registry/storage/storagetest"
)

// call sends one request to a running server and decodes a JSON answer.
func call(t *testing.T, method, url, body, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	return resp.StatusCode, v
}

// eventually polls cond until it holds or the bound SPEC promises (plus a
// margin) has passed: these tests check propagation bounds between
// processes, which nothing can signal to the test.
func eventually(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(bound)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within %s", what, bound)
		}
	}
}

func mysqlAndRedis(t *testing.T) (string, string) {
	t.Helper()
	m, r := os.Getenv("USER_REGISTRY_TEST_MYSQL"), os.Getenv("USER_REGISTRY_TEST_REDIS")
	if m == "" || r == "" {
		t.Skip("USER_REGISTRY_TEST_MYSQL/REDIS unset")
	}
	return m, r
}

func keySecretArg() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "--key-secret=" + base64.StdEncoding.EncodeToString(b)
}

// TestTwoNodes runs two `serve` processes on one MySQL and one Redis (SPEC
// §1, §6, §7, §9): tokens of one verify on the other, a logout on one is
// honoured at once by the other, a domain blocked through one node's admin
// API is refused by the other within 5 s, and an emergency key rotation
// done with the CLI reaches both nodes' JWKS within 30 s.
func TestTwoNodes(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	secret := keySecretArg()
	args := []string{"--db", db, "--redis", redisURL, secret, "--issuer", "http://registry.test"}
	a, b := startServer(t, nil, args...), startServer(t, nil, args...)

	const pw = "S3cure-horse-battery"
	if code, body := call(t, "POST", a.base+"/signup", `{"email":"node@example.com","password":"`+pw+`"}`, ""); code != 201 {
		t.Fatalf("signup on A: %d %v", code, body)
	}
	code, tok := call(t, "POST", b.base+"/login", `{"email":"node@example.com","password":"`+pw+`"}`, "")
	if code != 200 {
		t.Fatalf("login on B: %d %v", code, tok)
	}
	access := tok["access_token"].(string)
	if code, me := call(t, "GET", a.base+"/me", "", access); code != 200 || me["email"] != "node@example.com" {
		t.Fatalf("B's token on A: %d %v", code, me)
	}
	if code, _ := call(t, "POST", a.base+"/logout", "", access); code != 200 {
		t.Fatalf("logout on A: %d", code)
	}
	if code, _ := call(t, "GET", b.base+"/me", "", access); code != 401 {
		t.Fatalf("token logged out on A still works on B: %d", code)
	}

	out, errOut, rc := cli(t, nil, "clients", "create", "--domain", "ops.example", "--admin", "--db", db, secret)
	if rc != 0 {
		t.Fatalf("clients create: %s", errOut)
	}
	var admin struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &admin); err != nil {
		t.Fatalf("clients create output: %v", err)
	}
	req, _ := http.NewRequest("POST", a.base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(admin.ClientID), url.QueryEscape(admin.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var at map[string]any
	json.NewDecoder(resp.Body).Decode(&at)
	resp.Body.Close()
	adminTok, _ := at["access_token"].(string)
	if code, _ := call(t, "PUT", a.base+"/admin/domains/blocked.example", `{"belongs_to":1}`, adminTok); code != 200 {
		t.Fatalf("block through A's admin API: %d", code)
	}
	eventually(t, 6*time.Second, "B refuses signups of a domain blocked on A", func() bool {
		code, _ := call(t, "POST", b.base+"/signup", `{"email":"x@mail.blocked.example","password":"`+pw+`"}`, "")
		return code == 401
	})

	kids := func(base string) map[string]bool {
		resp, err := http.Get(base + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct{ Keys []struct{ Kid string } }
		json.NewDecoder(resp.Body).Decode(&set)
		out := map[string]bool{}
		for _, k := range set.Keys {
			out[k.Kid] = true
		}
		return out
	}
	before := kids(a.base)
	if _, errOut, rc := cli(t, nil, "keys", "rotate", "--now", "--db", db, secret); rc != 0 {
		t.Fatalf("keys rotate --now: %s", errOut)
	}
	for name, base := range map[string]string{"A": a.base, "B": b.base} {
		eventually(t, 31*time.Second, "node "+name+" publishes only the emergency key", func() bool {
			now := kids(base)
			if len(now) != 1 {
				return false
			}
			for kid := range now {
				return !before[kid]
			}
			return false
		})
	}
}

// TestBackendOutages plays a Redis and a MySQL restart under a running
// server (SEC-18, 44, 45): requests that need the lost backend answer 503
// with a JSON body, never 500 and never a success that skipped a
// revocation check, and the server recovers by itself.
func TestBackendOutages(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	dbURL, _ := url.Parse(db)
	redis, _ := url.Parse(redisURL)
	mysqlProxy := storagetest.StartProxy(t, dbURL.Host)
	redisProxy := storagetest.StartProxy(t, redis.Host)
	dbURL.Host, redis.Host = mysqlProxy.Addr(), redisProxy.Addr()
	srv := startServer(t, nil, "--db", dbURL.String(), "--redis", redis.String(), keySecretArg())

	const pw = "S3cure-horse-battery"
	if code, _ := call(t, "POST", srv.base+"/signup", `{"email":"outage@example.com","password":"`+pw+`"}`, ""); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	_, tok := call(t, "POST", srv.base+"/login", `{"email":"outage@example.com","password":"`+pw+`"}`, "")
	access, _ := tok["access_token"].(string)

	for _, outage := range []struct {
		name  string
		proxy *storagetest.Proxy
		calls [][3]string // method, path, body
	}{
		{"redis", redisProxy, [][3]string{{"GET", "/me", ""}, {"POST", "/login", `{"email":"outage@example.com","password":"` + pw + `"}`}, {"GET", "/readyz", ""}}},
		{"mysql", mysqlProxy, [][3]string{{"POST", "/signup", `{"email":"during@example.com","password":"` + pw + `"}`}, {"GET", "/readyz", ""}}},
	} {
		t.Run(outage.name, func(t *testing.T) {
			outage.proxy.Down()
			for _, c := range outage.calls {
				code, body := call(t, c[0], srv.base+c[1], c[2], access)
				if code != 503 || body == nil {
					t.Fatalf("%s %s during the %s outage = %d %v, want 503 JSON", c[0], c[1], outage.name, code, body)
				}
			}
			outage.proxy.Up()
			eventually(t, 10*time.Second, "recovery after the "+outage.name+" outage", func() bool {
				code, _ := call(t, "GET", srv.base+"/readyz", "", "")
				return code == 200
			})
			if code, _ := call(t, "GET", srv.base+"/me", "", access); code != 200 {
				t.Fatalf("/me after the %s outage = %d", outage.name, code)
			}
		})
	}
}
