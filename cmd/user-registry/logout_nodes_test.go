package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/storage/sqlstore/sqltest"
)

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// browserSignIn signs a cookie-jar client in on base through the login
// form and runs the code flow of a trusted client (no consent page); it
// returns the token answer.
func browserSignIn(t *testing.T, base, email, password, id, secret, redirect string) map[string]any {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the login page")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login form = %d", resp.StatusCode)
	}
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirect}, "scope": {"openid"}, "state": {"s"}}
	resp, err = c.Get(base + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if resp.StatusCode != http.StatusSeeOther || code == "" {
		t.Fatalf("authorize = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {redirect}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	if resp.StatusCode != 200 || tok["id_token"] == nil {
		t.Fatalf("token = %d %v", resp.StatusCode, tok)
	}
	return tok
}

// TestBackchannelLogoutAnotherNodeDelivers: with MySQL and Redis, a
// logout on node A queues the back-channel token in Redis; A is stopped
// right after (its own attempt, if it made one, was refused), and node B
// delivers it (SPEC §12: any node delivers, a restart loses nothing).
// Then an operator's `users logout` (the CLI, no server of its own) ends
// the next session, and B delivers that token too.
func TestBackchannelLogoutAnotherNodeDelivers(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	secret := keySecretArg()
	var accept atomic.Bool
	var mu sync.Mutex
	var delivered []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if !accept.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		delivered = append(delivered, r.PostForm.Get("logout_token"))
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)

	const redirect = "https://app.example/cb"
	out, errOut, rc := cli(t, nil, "clients", "create", "--domain", "app.example", "--grant", "authorization_code",
		"--redirect-uri", redirect, "--trusted", "--backchannel-logout-uri", rcv.URL+"/bc", "--db", db, secret)
	if rc != 0 {
		t.Fatalf("clients create: %s", errOut)
	}
	var cl struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &cl); err != nil {
		t.Fatal(err)
	}
	// Other tests share the Redis (and its per-IP counters): no IP limit.
	args := []string{"--db", db, "--redis", redisURL, secret, "--issuer", "http://registry.test", "--limit-ip", "0"}
	a, b := startServer(t, nil, args...), startServer(t, nil, args...)
	const pw = "S3cure-horse-battery"
	if code, body := call(t, "POST", a.base+"/signup", `{"email":"bc@example.com","password":"`+pw+`"}`, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	tok := browserSignIn(t, a.base, "bc@example.com", pw, cl.ClientID, cl.ClientSecret, redirect)
	if code, _ := call(t, "POST", a.base+"/logout", "", tok["access_token"].(string)); code != 200 {
		t.Fatalf("logout on A: %d", code)
	}
	a.stop()
	accept.Store(true)
	eventually(t, 20*time.Second, "node B delivers the logout token queued by A", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) > 0
	})
	parts := strings.Split(delivered[0], ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", delivered[0])
	}
	if code, _ := call(t, "GET", b.base+"/userinfo", "", tok["access_token"].(string)); code != 401 {
		t.Fatalf("the app's token still works on B: %d", code)
	}

	tok = browserSignIn(t, b.base, "bc@example.com", pw, cl.ClientID, cl.ClientSecret, redirect)
	if _, errOut, rc := cli(t, nil, "users", "logout", "bc@example.com", "--db", db, "--redis", redisURL, secret); rc != 0 {
		t.Fatalf("users logout: %s", errOut)
	}
	eventually(t, 10*time.Second, "node B delivers the logout token queued by the CLI", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == 2
	})
	if delivered[1] == delivered[0] {
		t.Fatal("the second session's token is the first one again")
	}
	if code, _ := call(t, "GET", b.base+"/userinfo", "", tok["access_token"].(string)); code != 401 {
		t.Fatalf("the app's second token still works on B after users logout: %d", code)
	}
}

// TestClientsLogoutFlags: clients create takes the logout URIs, refuses a
// plain-http back-channel URI to another host, and clients list --json
// shows them.
func TestClientsLogoutFlags(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	out, errOut, rc := cli(t, nil, "clients", "create", "--db", db, "--domain", "app.example", "--grant", "authorization_code",
		"--redirect-uri", "https://app.example/cb", "--post-logout-redirect-uri", "https://app.example/bye",
		"--post-logout-redirect-uri", "https://app.example/bye2", "--backchannel-logout-uri", "https://app.example/bc")
	if rc != 0 {
		t.Fatalf("create: %s", errOut)
	}
	var created struct {
		ClientID string `json:"client_id"`
	}
	json.Unmarshal([]byte(out), &created)
	if _, errOut, rc := cli(t, nil, "clients", "create", "--db", db, "--domain", "app.example",
		"--backchannel-logout-uri", "http://app.example/bc"); rc == 0 || !strings.Contains(errOut, "https") {
		t.Fatalf("plain-http back-channel URI accepted: %d %s", rc, errOut)
	}
	out, errOut, rc = cli(t, nil, "clients", "list", "--json", "--db", db)
	if rc != 0 {
		t.Fatalf("list: %s", errOut)
	}
	var list struct {
		Clients []struct {
			ClientID               string   `json:"client_id"`
			PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
			BackchannelLogoutURI   string   `json:"backchannel_logout_uri"`
		} `json:"clients"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Clients) != 1 {
		t.Fatalf("list: %v %s", err, out)
	}
	got := list.Clients[0]
	if got.ClientID != created.ClientID || !slices.Equal(got.PostLogoutRedirectURIs, []string{"https://app.example/bye", "https://app.example/bye2"}) ||
		got.BackchannelLogoutURI != "https://app.example/bc" {
		t.Fatalf("listed %+v", got)
	}
}
