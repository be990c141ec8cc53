package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"user-registry/provider"
	"user-registry/storage/memstore"
)

// TestAPIStoreDown: with the session/revocation store unreachable, nothing
// that must consult it succeeds or fails with 500: it answers 503 JSON
// (SEC-18, SPEC §2). With the database gone, signup and login answer 503.
func TestAPIStoreDown(t *testing.T) {
	eph := &flakyStore{Store: memstore.New()}
	var dbDown atomic.Bool
	h := newLocalAPI(t, eph, &dbDown)
	signup(t, h, "down@example.com")
	access, refresh := login(t, h, "down@example.com", testPassword)
	eph.down.Store(true)

	const msg = "Service temporarily unavailable"
	creds := jsonBody(map[string]string{"email": "down@example.com", "password": testPassword})
	tests := []struct {
		name, method, path, body string
		token                    bool
	}{
		{"me", "GET", "/me", "", true},
		{"login", "POST", "/login", creds, false},
		{"login alias", "POST", "/", creds, false},
		{"refresh", "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh}), false},
		{"logout", "POST", "/logout", "", true},
		{"logout all", "POST", "/logout/all", "", true},
		{"update", "POST", "/update", `{"discoverable":true}`, true},
		{"password", "POST", "/password", jsonBody(map[string]string{"current_password": testPassword, "new_password": "brand new horse 77"}), true},
		{"delete", "DELETE", "/me", jsonBody(map[string]string{"password": testPassword}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []reqOpt
			if tt.token {
				opts = append(opts, withToken(access))
			}
			r := call(t, h, tt.method, tt.path, tt.body, opts...)
			wantMessage(t, r, http.StatusServiceUnavailable, msg)
			if r.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}

	// Back up: the token that could not be checked was never revoked, and
	// works again.
	eph.down.Store(false)
	if r := call(t, h, "GET", "/me", "", withToken(access)); r.Status != 200 {
		t.Fatalf("after recovery: /me = %d %s", r.Status, r.Raw)
	}

	dbDown.Store(true)
	t.Run("database down", func(t *testing.T) {
		wantMessage(t, call(t, h, "POST", "/signup", jsonBody(map[string]string{"email": "new@example.com", "password": testPassword})), 503, msg)
		wantMessage(t, call(t, h, "POST", "/login", creds), 503, msg)
		wantMessage(t, call(t, h, "GET", "/me", "", withToken(access)), 503, msg)
	})
}

// TestAPIConcurrentSignup: many simultaneous signups of one address, from
// distinct client addresses through a trusted proxy with the per-IP limit
// on, create exactly one user; the rest are told it exists (SEC-46).
func TestAPIConcurrentSignup(t *testing.T) {
	const n = 100
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b, func(c *Config, _ *provider.AccountsConfig) {
				c.IPLimit = envLimiter(c, "120/1m")
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
			})
			body := jsonBody(map[string]string{"email": "Race@Example.com", "password": testPassword})
			statuses := make([]int, n)
			msgs := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					req, _ := http.NewRequest("POST", env.Server.URL+"/signup", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
					resp, err := env.Server.Client().Do(req)
					if err != nil {
						msgs[i] = err.Error()
						return
					}
					defer resp.Body.Close()
					var m message
					json.NewDecoder(resp.Body).Decode(&m)
					statuses[i], msgs[i] = resp.StatusCode, m.Message
				})
			}
			wg.Wait()
			created := 0
			for i, st := range statuses {
				switch {
				case st == http.StatusCreated && msgs[i] == "User created successfully":
					created++
				case st == http.StatusAccepted && msgs[i] == "User already exists. Please log in":
				default:
					t.Errorf("request %d: %d %q", i, st, msgs[i])
				}
			}
			if created != 1 {
				t.Fatalf("%d signups created a user, want exactly 1", created)
			}
		})
	}
}

// topLevelKeys lists the keys of the JSON object body in order, with
// repeats; it fails the test if body is not one object. encoding/json
// reads it here, independently of the decoder under test.
func topLevelKeys(t *testing.T, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("201 for a body that is not a JSON object: %q", body)
	}
	for dec.More() {
		tok, err := dec.Token()
		k, ok := tok.(string)
		var v json.RawMessage
		if err != nil || !ok || dec.Decode(&v) != nil {
			t.Fatalf("201 for a malformed object: %q", body)
		}
		if slices.Contains(keys, k) {
			t.Fatalf("201 with key %q given twice in %q", k, body)
		}
		keys = append(keys, k)
	}
	return keys
}

// FuzzSignupRequest feeds arbitrary bodies to POST /signup through the
// real handler: never a 5xx or a panic, always a JSON {"message"} error or
// a 201, and never a 201 for a body with a field outside the request's
// (in any case) or a key given twice.
func FuzzSignupRequest(f *testing.F) {
	f.Add([]byte(`{"email":"a@example.com","password":"correct horse battery 9"}`))
	f.Add([]byte(`{"email":"b@example.com","password":"correct horse battery 9","phone_num":"+92 123 456 7890","discoverable":true,"confirm_pass":"correct horse battery 9"}`))
	f.Add([]byte(`{"email":"c@example.com","password":"correct horse battery 9","role":"admin"}`))
	f.Add([]byte(`{"email":"a@example.com","password":"correct horse battery 9"}{}`))
	f.Add([]byte(`{"email":null,"password":1}`))
	f.Add([]byte(`{"email":"\u0000@ｅｘａｍｐｌｅ.com","password":"\xff\xfe"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"email":"d@example.com","password":"correct horse battery 9","Email":"e@example.com"}`))
	f.Add([]byte(`{"email":"f@example.com","password":"x","password":"correct horse battery 9"}`))
	h := newLocalAPI(f, memstore.New(), nil)
	allowed := []string{"email", "password", "confirm_pass", "phone_num", "discoverable"}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := call(t, h, "POST", "/signup", string(body), withCT("application/json"))
		switch r.Status {
		case http.StatusCreated:
			for _, k := range topLevelKeys(t, body) {
				if !slices.Contains(allowed, k) {
					t.Fatalf("201 with unknown field %q in %q", k, body)
				}
			}
		case http.StatusAccepted, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
			if r.str("message") == "" || len(r.Body) != 1 {
				t.Fatalf("%d without a message: %s", r.Status, r.Raw)
			}
		default:
			t.Fatalf("POST /signup %q = %d %s", body, r.Status, r.Raw)
		}
	})
}

// TestAPILogsNoSecrets runs every credential-carrying request, failing and
// succeeding, with debug logging and the stores failing part of the time,
// and checks no password or token reaches the log (SEC-43).
func TestAPILogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	eph := &flakyStore{Store: memstore.New()}
	h := newLocalAPI(t, eph, nil, func(c *Config, _ *provider.AccountsConfig) {
		c.Log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	const pw, next = "canary-password-1f3e", "canary-password-9b7d"
	signup := call(t, h, "POST", "/signup", jsonBody(map[string]string{"email": "log@example.com", "password": pw}))
	if signup.Status != 201 {
		t.Fatalf("signup = %d %s", signup.Status, signup.Raw)
	}
	access, refresh := login(t, h, "log@example.com", pw)
	secrets := []string{pw, next, access, refresh}
	call(t, h, "POST", "/login", jsonBody(map[string]string{"email": "log@example.com", "password": next}))
	call(t, h, "GET", "/me?access_token="+access, "")
	call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh + "x"}))
	eph.down.Store(true)
	for _, r := range []apiResp{
		call(t, h, "POST", "/login", jsonBody(map[string]string{"email": "log@example.com", "password": pw})),
		call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh})),
		call(t, h, "GET", "/me", "", withToken(access)),
	} {
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("store down: %d %s", r.Status, r.Raw)
		}
	}
	eph.down.Store(false)
	r := call(t, h, "POST", "/password", jsonBody(map[string]string{"current_password": pw, "new_password": next}), withToken(access))
	if r.Status != 200 {
		t.Fatalf("password = %d %s", r.Status, r.Raw)
	}
	if buf.Len() == 0 {
		t.Fatal("nothing was logged; the test proves nothing")
	}
	for _, s := range secrets {
		if strings.Contains(buf.String(), s) {
			t.Fatalf("log contains a secret %.12s…:\n%s", s, buf.String())
		}
	}
}
