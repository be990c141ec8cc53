package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogsHoldNoSecrets drives the running binary with canary values —
// passwords, a client secret, tokens, refresh tokens — through success and
// failure paths, then stops it and searches everything it logged (SEC-43).
func TestLogsHoldNoSecrets(t *testing.T) {
	dbArg := "--db=sqlite:" + filepath.Join(t.TempDir(), "canary.db")
	const password = "Canary-Pa55word-7781"
	const wrongPassword = "Canary-Wr0ng-Pa55-9923"
	out, errOut, code := cli(t, nil, "clients", "create", "--domain", "canary.example", dbArg)
	if code != 0 {
		t.Fatalf("clients create: %s", errOut)
	}
	var client struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &client); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, nil, dbArg, "--log-format", "json")

	post := func(path, ctype, body string, hdr ...string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		json.Unmarshal(b, &v)
		return resp.StatusCode, v
	}
	const js = "application/json"
	if code, body := post("/signup", js, `{"email":"canary@canary.example","password":"`+password+`"}`); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	post("/login", js, `{"email":"canary@canary.example","password":"`+wrongPassword+`"}`)
	post("/login", js, `{"email":"nobody@canary.example","password":"`+wrongPassword+`"}`)
	code, tokens := post("/login", js, `{"email":"canary@canary.example","password":"`+password+`"}`)
	if code != 200 {
		t.Fatalf("login: %d %v", code, tokens)
	}
	access, _ := tokens["access_token"].(string)
	refresh, _ := tokens["refresh_token"].(string)
	post("/refresh", js, `{"refresh_token":"`+refresh+`"}`)
	post("/refresh", js, `{"refresh_token":"`+refresh+`"}`) // reuse
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(client.ID)+":"+url.QueryEscape(client.Secret)))
	code, tok := post("/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", "Authorization", basic)
	if code != 200 {
		t.Fatalf("client credentials: %d %v", code, tok)
	}
	authority, _ := tok["access_token"].(string)
	post("/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id="+client.ID+"&client_secret="+wrongPassword)
	post("/logout", js, "", "Authorization", "Bearer "+access)
	post("/logout", js, "", "Authorization", "Bearer "+access) // revoked now
	srv.stop()

	logs := srv.logs.String()
	if !strings.Contains(logs, "serving") {
		t.Fatalf("no logs captured:\n%s", logs)
	}
	for name, canary := range map[string]string{
		"password": password, "wrong password": wrongPassword, "client secret": client.Secret,
		"access token": access, "refresh token": refresh, "authority token": authority,
		"refresh secret half": refresh[strings.IndexByte(refresh, '.')+1:],
		"token signature":     access[strings.LastIndexByte(access, '.')+1:],
	} {
		if canary == "" {
			t.Fatalf("%s is empty: the flow did not run", name)
		}
		if strings.Contains(logs, canary) {
			t.Errorf("logs contain the %s", name)
		}
	}
}

// TestLifecycleWithoutMailer: an install without --smtp-url/--mail-dir still
// answers the §3a endpoints as SPEC says (the mail is dropped and logged).
func TestLifecycleWithoutMailer(t *testing.T) {
	srv := startServer(t, nil, "--db=sqlite:"+filepath.Join(t.TempDir(), "nomail.db"))
	for _, email := range []string{"someone@example.org", "nobody@example.org"} {
		if email == "someone@example.org" {
			resp, err := http.Post(srv.base+"/signup", "application/json", strings.NewReader(`{"email":"`+email+`","password":"S3cure-horse-battery"}`))
			if err != nil || resp.StatusCode != 201 {
				t.Fatalf("signup: %v %v", resp.StatusCode, err)
			}
			resp.Body.Close()
		}
		resp, err := http.Post(srv.base+"/password/forgot", "application/json", strings.NewReader(`{"email":"`+email+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 202 || !strings.Contains(string(body), "If that address is registered") {
			t.Fatalf("forgot %s = %d %s", email, resp.StatusCode, body)
		}
	}
	resp, err := http.Post(srv.base+"/password/reset", "application/json", strings.NewReader(`{"token":"bogus","password":"An0ther-horse-battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("reset with a bogus token = %d, want 400", resp.StatusCode)
	}
}
