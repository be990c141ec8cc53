package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"user-registry/storage/sqlstore/sqltest"
)

// clientToken gets an authority token for a client from a running node.
func clientToken(t *testing.T, base, id, secret string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var at map[string]any
	json.NewDecoder(resp.Body).Decode(&at)
	tok, _ := at["access_token"].(string)
	if resp.StatusCode != 200 || tok == "" {
		t.Fatalf("client token: %d %v", resp.StatusCode, at)
	}
	return tok
}

// TestDisableOnTwoNodes (SEC-70): two `serve` processes share MySQL and
// Redis. A domain admin disables a user through node A's admin API; node
// B refuses the user's access token, refresh token and sign-in on the
// very next request: each verification reads the not-before from Redis,
// so there is no cache to wait for and the test asserts at once. Enabling
// through the CLI brings none of it back; a new sign-in works, and a
// disable through the CLI (with --redis) ends it on both nodes at once.
func TestDisableOnTwoNodes(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	secret := keySecretArg()
	args := []string{"--db", db, "--redis", redisURL, secret, "--issuer", "http://registry.test"}
	a, b := startServer(t, nil, args...), startServer(t, nil, args...)

	const pw = "S3cure-horse-battery"
	creds := `{"email":"kim@corp.example","password":"` + pw + `"}`
	code, made := call(t, "POST", a.base+"/signup", creds, "")
	if code != 201 {
		t.Fatalf("signup on A: %d %v", code, made)
	}
	userPath := "/admin/users/" + made["user_id"].(string)
	code, tok := call(t, "POST", b.base+"/login", creds, "")
	if code != 200 {
		t.Fatalf("login on B: %d %v", code, tok)
	}
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)

	out, errOut, rc := cli(t, nil, "clients", "create", "--domain", "corp.example", "--domain-admin", "--db", db, secret)
	if rc != 0 {
		t.Fatalf("clients create: %s", errOut)
	}
	var admin struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &admin); err != nil {
		t.Fatal(err)
	}
	adminTok := clientToken(t, a.base, admin.ClientID, admin.ClientSecret)

	if code, u := call(t, "PATCH", a.base+userPath, `{"disabled":true}`, adminTok); code != 200 || u["disabled"] != true {
		t.Fatalf("disable through A: %d %v", code, u)
	}
	refusedEverywhere := func(when, access, refresh string) {
		t.Helper()
		for name, base := range map[string]string{"A": a.base, "B": b.base} {
			if code, _ := call(t, "GET", base+"/me", "", access); code != 401 {
				t.Errorf("%s: access token on %s = %d, want 401", when, name, code)
			}
		}
		if code, _ := call(t, "POST", b.base+"/refresh", `{"refresh_token":"`+refresh+`"}`, ""); code != 401 {
			t.Errorf("%s: refresh on B = %d, want 401", when, code)
		}
	}
	refusedEverywhere("disabled on A", access, refresh)
	if code, body := call(t, "POST", b.base+"/login", creds, ""); code != 403 || body["message"] != "This account is disabled." {
		t.Errorf("login on B of a user disabled on A = %d %v", code, body)
	}

	if _, errOut, rc := cli(t, nil, "users", "enable", "kim@corp.example", "--db", db, "--redis", redisURL, secret); rc != 0 {
		t.Fatalf("users enable: %s", errOut)
	}
	refusedEverywhere("enabled by the CLI", access, refresh)
	code, tok = call(t, "POST", a.base+"/login", creds, "")
	if code != 200 {
		t.Fatalf("login on A after enabling: %d %v", code, tok)
	}
	access, refresh = tok["access_token"].(string), tok["refresh_token"].(string)
	if code, _ := call(t, "GET", b.base+"/me", "", access); code != 200 {
		t.Fatalf("new token on B: %d", code)
	}
	if _, errOut, rc := cli(t, nil, "users", "disable", "kim@corp.example", "--db", db, "--redis", redisURL, secret); rc != 0 {
		t.Fatalf("users disable: %s", errOut)
	}
	refusedEverywhere("disabled by the CLI", access, refresh)
}
