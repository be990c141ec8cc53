package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"user-registry/keys"
)

func TestAPILogout(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		for _, method := range []string{"POST", "GET", "DELETE"} {
			t.Run(b+"/"+method, func(t *testing.T) {
				env := newTestEnv(t, b)
				h := env.Handler
				signup(t, h, "out@example.com")
				access, refresh := login(t, h, "out@example.com", testPassword)
				other, _ := login(t, h, "out@example.com", testPassword)

				wantMessage(t, call(t, h, method, "/logout", "", withToken(access)), 200, "Successfully logged out")
				// The same token is dead everywhere, and so is its session's
				// refresh token (SEC-12); another session lives on.
				wantMessage(t, call(t, h, "GET", "/me", "", withToken(access)), 401, "Invalid or expired token.")
				wantMessage(t, call(t, h, method, "/logout", "", withToken(access)), 401, "Invalid or expired token.")
				wantMessage(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh})), 401, "Invalid or expired token.")
				if r := call(t, h, "GET", "/me", "", withToken(other)); r.Status != 200 {
					t.Fatalf("other session: /me = %d %s", r.Status, r.Raw)
				}
				wantMessage(t, call(t, h, method, "/logout", ""), 401, "Missing bearer token")
				wantMessage(t, call(t, h, method, "/logout", "", withToken("not.a.jwt")), 401, "Invalid or expired token.")
			})
		}
	}
}

func TestAPILogoutAll(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			signup(t, h, "all@example.com")
			signup(t, h, "bystander@example.com")
			a1, r1 := login(t, h, "all@example.com", testPassword)
			a2, r2 := login(t, h, "all@example.com", testPassword)
			a3, _ := login(t, h, "bystander@example.com", testPassword)

			wantMessage(t, call(t, h, "POST", "/logout/all", "", withToken(a1)), 200, "Logged out everywhere")
			for _, tok := range []string{a1, a2} {
				wantMessage(t, call(t, h, "GET", "/me", "", withToken(tok)), 401, "Invalid or expired token.")
			}
			for _, rt := range []string{r1, r2} {
				wantMessage(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": rt})), 401, "Invalid or expired token.")
			}
			if r := call(t, h, "GET", "/me", "", withToken(a3)); r.Status != 200 {
				t.Fatalf("another user's session died: %d %s", r.Status, r.Raw)
			}
			// A fresh login afterwards works (the provider waits out the
			// not-before second).
			a4, _ := login(t, h, "all@example.com", testPassword)
			if r := call(t, h, "GET", "/me", "", withToken(a4)); r.Status != 200 {
				t.Fatalf("login after logout everywhere: /me = %d %s", r.Status, r.Raw)
			}
			wantMessage(t, call(t, h, "POST", "/logout/all", ""), 401, "Missing bearer token")
		})
	}
}

func TestAPIMe(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			before := time.Now().UTC().Add(-time.Second)
			id := signup(t, h, "Mixed.Case@Example.COM")
			access, _ := login(t, h, "mixed.case@example.com", testPassword)

			r := call(t, h, "GET", "/me", "", withToken(access))
			if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("/me = %d %v %s", r.Status, r.Header, r.Raw)
			}
			want := map[string]any{
				"user_id": id, "email": "Mixed.Case@example.com", "phone_num": nil,
				"domain": "example.com", "discoverable": false, "is_activated": true,
			}
			for k, v := range want {
				if got, ok := r.Body[k]; !ok || got != v {
					t.Errorf("%s = %#v (present %v), want %#v", k, got, ok, v)
				}
			}
			if len(r.Body) != len(want)+1 {
				t.Errorf("unexpected fields: %s", r.Raw)
			}
			created, err := time.Parse(time.RFC3339, r.str("created_at"))
			if err != nil || created.Location() != time.UTC || created.Before(before.Truncate(time.Second)) || created.After(time.Now().Add(time.Second)) {
				t.Errorf("created_at = %q (%v)", r.str("created_at"), err)
			}
			if s := r.str("created_at"); s[len(s)-1] != 'Z' {
				t.Errorf("created_at %q is not UTC", s)
			}

			call(t, h, "PATCH", "/update", `{"phone_num":"+92 123-456.7890","discoverable":true}`, withToken(access))
			r = call(t, h, "GET", "/me", "", withToken(access))
			if r.Body["phone_num"] != "+921234567890" || r.Body["discoverable"] != true {
				t.Fatalf("after update: %s", r.Raw)
			}
			wantMessage(t, call(t, h, "GET", "/me", ""), 401, "Missing bearer token")
			wantMessagePrefix(t, call(t, h, "POST", "/me", ""), 405, "Method not allowed")
		})
	}
}

func TestAPIUpdate(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			signup(t, h, "upd@example.com")
			access, _ := login(t, h, "upd@example.com", testPassword)
			// Steps run in order: each starts from the state the last left.
			steps := []struct {
				name, method, body string
				status             int
				msg                string
			}{
				{"nothing", "POST", `{}`, 200, "Nothing to be updated"},
				{"null phone is absent", "POST", `{"phone_num":null}`, 200, "Nothing to be updated"},
				{"phone", "POST", `{"phone_num":"921234567890"}`, 202, "Phone number updated"},
				{"same phone", "PATCH", `{"phone_num":"+921234567890"}`, 200, "Nothing to be updated"},
				{"discoverable", "PATCH", `{"discoverable":true}`, 202, "Discoverable field updated"},
				{"both", "POST", `{"phone_num":"","discoverable":false}`, 202, "Phone number updated. Discoverable field updated"},
				{"clear again", "POST", `{"phone_num":""}`, 200, "Nothing to be updated"},
				{"bad phone", "POST", `{"phone_num":"12"}`, 400, "Please provide a valid phone number (e.g. 921234567890)"},
				{"letters in phone", "POST", `{"phone_num":"92123456789a"}`, 400, "Please provide a valid phone number (e.g. 921234567890)"},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					wantMessage(t, call(t, h, st.method, "/update", st.body, withToken(access)), st.status, st.msg)
				})
			}
			// Mass assignment (SEC-29): nothing but phone and discoverable.
			for _, body := range []string{
				`{"email":"evil@example.com"}`, `{"password":"new horse battery 9"}`, `{"id":"x"}`,
				`{"role":"admin"}`, `{"is_activated":false}`, `{"phone_num":"921234567890","email":"evil@example.com"}`,
			} {
				t.Run("refuse "+body, func(t *testing.T) {
					wantMessagePrefix(t, call(t, h, "POST", "/update", body, withToken(access)), 400, "Malformed JSON body")
				})
			}
			r := call(t, h, "GET", "/me", "", withToken(access))
			if r.Body["email"] != "upd@example.com" || r.Body["phone_num"] != nil || r.Body["is_activated"] != true {
				t.Fatalf("refused update changed something: %s", r.Raw)
			}
			wantMessage(t, call(t, h, "POST", "/update", `{}`), 401, "Missing bearer token")
		})
	}
}

func TestAPIChangePassword(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			signup(t, h, "pw@example.com")
			access, refresh := login(t, h, "pw@example.com", testPassword)
			other, otherRefresh := login(t, h, "pw@example.com", testPassword)
			const next = "brand new horse 77"

			wantMessage(t, call(t, h, "POST", "/password", jsonBody(map[string]string{"current_password": "wrong horse battery 9", "new_password": next}), withToken(access)), 401, "Wrong password.")
			wantMessage(t, call(t, h, "POST", "/password", jsonBody(map[string]string{"current_password": testPassword, "new_password": "short"}), withToken(access)), 400, "Password must be 8 to 128 characters long")
			wantMessage(t, call(t, h, "POST", "/password", `{"current_password":"x"}`, withToken(access)), 400, msgPasswordFieldsMi)

			r := call(t, h, "POST", "/password", jsonBody(map[string]string{"current_password": testPassword, "new_password": next}), withToken(access))
			wantMessage(t, r, 200, "Password updated")
			// The calling token keeps working, and so does its session's
			// refresh token; the other session is over (SPEC §3a, SEC-54).
			if me := call(t, h, "GET", "/me", "", withToken(access)); me.Status != 200 {
				t.Fatalf("caller's token after the change: /me = %d %s", me.Status, me.Raw)
			}
			wantTokens(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh})))
			wantMessage(t, call(t, h, "GET", "/me", "", withToken(other)), 401, "Invalid or expired token.")
			wantMessage(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": otherRefresh})), 401, "Invalid or expired token.")
			wantMessage(t, call(t, h, "POST", "/login", jsonBody(map[string]string{"email": "pw@example.com", "password": testPassword})), 401, "Wrong password.")
			login(t, h, "pw@example.com", next)
		})
	}
}

func TestAPIDeleteAccount(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			signup(t, h, "del@example.com")
			access, refresh := login(t, h, "del@example.com", testPassword)

			wantMessage(t, call(t, h, "DELETE", "/me", `{"password":"wrong horse battery 9"}`, withToken(access)), 401, "Wrong password.")
			wantMessage(t, call(t, h, "DELETE", "/me", `{}`, withToken(access)), 400, msgPasswordMissing)
			wantMessagePrefix(t, call(t, h, "DELETE", "/me", "", withToken(access)), 415, "Content-Type must be application/json")
			r := call(t, h, "DELETE", "/me", jsonBody(map[string]string{"password": testPassword}), withToken(access))
			if r.Status != http.StatusNoContent {
				t.Fatalf("delete = %d %s", r.Status, r.Raw)
			}
			wantMessage(t, call(t, h, "GET", "/me", "", withToken(access)), 401, "Invalid or expired token.")
			wantMessage(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh})), 401, "Invalid or expired token.")
			wantMessage(t, call(t, h, "POST", "/login", jsonBody(map[string]string{"email": "del@example.com", "password": testPassword})), 401, "User does not exist.")
			signup(t, h, "del@example.com") // the address is free again
		})
	}
}

// TestAPIForeignToken: a token issued to a third-party OAuth client works
// for /logout but not for the account endpoints.
func TestAPIForeignToken(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	id := signup(t, h, "tp@example.com")
	activated := true
	mint := func() string {
		tok, _, err := env.Tokens.MintAccess(context.Background(), keys.AccessClaims{
			Subject: id, Audience: []string{"third-party"}, ClientID: "third-party",
			Scope: "openid email", Email: "tp@example.com", Domain: "example.com", IsActivated: &activated,
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok := mint()
	const msg = "This token was not issued for the account API"
	wantMessage(t, call(t, h, "GET", "/me", "", withToken(tok)), 403, msg)
	wantMessage(t, call(t, h, "POST", "/update", `{"phone_num":"921234567890"}`, withToken(tok)), 403, msg)
	wantMessage(t, call(t, h, "POST", "/password", `{"current_password":"a","new_password":"b"}`, withToken(tok)), 403, msg)
	wantMessage(t, call(t, h, "DELETE", "/me", `{"password":"a"}`, withToken(tok)), 403, msg)
	wantMessage(t, call(t, h, "POST", "/logout/all", "", withToken(tok)), 403, msg)
	wantMessage(t, call(t, h, "POST", "/logout", "", withToken(tok)), 200, "Successfully logged out")
}

// TestAPIFormPostsLeftToPages: form posts to the paths the pages share do
// not reach the JSON handlers, which would answer 415; the pages' routes
// (or 404/405 when they are absent) take them. multipart/form-data is not
// a form of ours: TestContentTypeDecidesHTML.
func TestAPIFormPostsLeftToPages(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	for _, path := range []string{"/signup", "/login", "/", "/update", "/logout", "/logout/all", "/password"} {
		for _, ct := range []string{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8"} {
			req := httptest.NewRequest("POST", path, strings.NewReader("email=a%40b.c&password=x"))
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			env.Handler.ServeHTTP(rec, req)
			if rec.Code == http.StatusUnsupportedMediaType || strings.Contains(rec.Body.String(), "access_token") {
				t.Errorf("form POST %s (%s) reached the JSON API: %d %s", path, ct, rec.Code, rec.Body)
			}
		}
	}
}
