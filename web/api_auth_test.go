package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"user-registry/provider"
	"user-registry/storage"
)

func TestAPISignup(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			ctx := context.Background()
			if err := env.DB.PutDomain(ctx, storage.DomainRecord{Domain: "evil.com", BelongsTo: storage.DomainBlocked}); err != nil {
				t.Fatal(err)
			}
			env.Policy.Invalidate()
			signup(t, h, "Bob@Example.com")

			tests := []struct {
				name   string
				body   map[string]any
				status int
				msg    string
			}{
				{"duplicate, other case", map[string]any{"email": "bob@example.com", "password": testPassword}, 202, "User already exists. Please log in"},
				{"duplicate, domain upper case", map[string]any{"email": "BOB@EXAMPLE.COM.", "password": testPassword}, 202, "User already exists. Please log in"},
				{"blocked domain", map[string]any{"email": "eve@evil.com", "password": testPassword}, 401, "You are not allowed to register."},
				{"blocked subdomain", map[string]any{"email": "eve@mail.EVIL.com", "password": testPassword}, 401, "You are not allowed to register."},
				{"bad email", map[string]any{"email": "not-an-email", "password": testPassword}, 400, "Please provide a valid email"},
				{"missing email", map[string]any{"password": testPassword}, 400, "Please provide a valid email"},
				{"short password", map[string]any{"email": "a@example.org", "password": "short"}, 400, "Password must be 8 to 128 characters long"},
				{"common password", map[string]any{"email": "a@example.org", "password": "password123"}, 400, "This password is too common. Please choose another one"},
				{"confirm mismatch", map[string]any{"email": "a@example.org", "password": testPassword, "confirm_pass": "other horse battery 9"}, 400, "Passwords don't match!"},
				{"bad phone", map[string]any{"email": "a@example.org", "password": testPassword, "phone_num": "12ab"}, 400, "Please provide a valid phone number (e.g. 921234567890)"},
				{"created with all fields", map[string]any{"email": "carol@example.org", "password": testPassword, "confirm_pass": testPassword, "phone_num": "921234567890", "discoverable": true}, 201, "User created successfully"},
				{"created with null phone", map[string]any{"email": "dave@example.org", "password": testPassword, "phone_num": nil}, 201, "User created successfully"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := call(t, h, "POST", "/signup", jsonBody(tt.body))
					if tt.status == 201 {
						if r.Status != 201 || r.str("message") != tt.msg || len(r.Body) != 2 {
							t.Fatalf("got %d %s", r.Status, r.Raw)
						}
						if _, err := uuid.Parse(r.str("user_id")); err != nil {
							t.Fatalf("user_id %q is not a UUID", r.str("user_id"))
						}
						return
					}
					wantMessage(t, r, tt.status, tt.msg)
				})
			}
		})
	}
}

// TestAPIRequestDecoding covers SPEC §2 / SEC-36 on the JSON endpoints.
func TestAPIRequestDecoding(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	signup(t, env.Handler, "dec@example.com")
	access, _ := login(t, env.Handler, "dec@example.com", testPassword)
	big := `{"email":"` + strings.Repeat("a", maxJSONBody) + `@example.com","password":"x"}`
	tests := []struct {
		name, method, path, body, ctype string
		auth                            bool
		status                          int
		prefix                          string
	}{
		{"unknown field", "POST", "/signup", `{"email":"x@example.com","password":"` + testPassword + `","role":"admin"}`, "application/json", false, 400, "Malformed JSON body"},
		{"trailing data", "POST", "/signup", `{"email":"x@example.com","password":"` + testPassword + `"} {}`, "application/json", false, 400, "Malformed JSON body"},
		{"wrong type", "POST", "/signup", `{"email":"x@example.com","password":"` + testPassword + `","discoverable":"yes"}`, "application/json", false, 400, "Malformed JSON body"},
		{"not an object", "POST", "/login", `["a"]`, "application/json", false, 400, "Malformed JSON body"},
		{"duplicate key", "POST", "/signup", `{"email":"x@example.com","password":"` + testPassword + `","discoverable":true,"discoverable":false}`, "application/json", false, 400, `Malformed JSON body: key "discoverable" is given twice`},
		{"duplicate email", "POST", "/login", `{"email":"dec@example.com","email":"x@example.com","password":"` + testPassword + `"}`, "application/json", false, 400, "Malformed JSON body"},
		{"key in other case", "POST", "/signup", `{"Email":"x@example.com","password":"` + testPassword + `"}`, "application/json", false, 400, `Malformed JSON body: unknown field "Email"`},
		{"key in upper case", "POST", "/login", `{"EMAIL":"dec@example.com","password":"` + testPassword + `"}`, "application/json", false, 400, "Malformed JSON body"},
		{"update duplicate key", "PATCH", "/update", `{"phone_num":"","phone_num":"921234567890"}`, "application/json", true, 400, "Malformed JSON body"},
		{"empty body", "POST", "/login", ``, "application/json", false, 400, "Malformed JSON body"},
		{"oversize", "POST", "/signup", big, "application/json", false, 413, "Request body too large"},
		{"no content type", "POST", "/login", `{"email":"a@b.c","password":"x"}`, "", false, 415, "Content-Type must be application/json"},
		{"text/plain", "POST", "/signup", `{}`, "text/plain", false, 415, "Content-Type must be application/json"},
		{"form post to /refresh", "POST", "/refresh", `refresh_token=x`, "application/x-www-form-urlencoded", false, 415, "Content-Type must be application/json"},
		{"update wrong type", "PATCH", "/update", `{"discoverable":"true"}`, "application/json", true, 400, "Malformed JSON body"},
		{"update text/plain", "POST", "/update", `{}`, "text/plain", true, 415, "Content-Type must be application/json"},
		{"password unknown field", "POST", "/password", `{"current_password":"a","new_password":"b","x":1}`, "application/json", true, 400, "Malformed JSON body"},
		{"wrong method", "PUT", "/refresh", `{}`, "application/json", false, 405, "Method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []reqOpt{withCT(tt.ctype)}
			if tt.auth {
				opts = append(opts, withToken(access))
			}
			r := call(t, env.Handler, tt.method, tt.path, tt.body, opts...)
			wantMessagePrefix(t, r, tt.status, tt.prefix)
		})
	}
}

func TestAPILogin(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		for _, mode := range []string{"seed", "generic"} {
			t.Run(b+"/"+mode, func(t *testing.T) {
				var opts []envOption
				unknown, wrong := "User does not exist.", "Wrong password."
				if mode == "generic" {
					opts = append(opts, genericLoginErrors)
					unknown, wrong = provider.GenericLoginMessage, provider.GenericLoginMessage
				}
				env := newTestEnv(t, b, opts...)
				signup(t, env.Handler, "Alice@Example.com")
				tests := []struct {
					name, path string
					body       map[string]any
					status     int
					msg        string // "" = tokens
				}{
					{"ok", "/login", map[string]any{"email": "Alice@Example.com", "password": testPassword}, 200, ""},
					{"ok, other case", "/login", map[string]any{"email": " alice@EXAMPLE.com ", "password": testPassword}, 200, ""},
					{"alias /", "/", map[string]any{"email": "alice@example.com", "password": testPassword}, 200, ""},
					{"unknown user", "/login", map[string]any{"email": "nobody@example.com", "password": testPassword}, 401, unknown},
					{"wrong password", "/login", map[string]any{"email": "alice@example.com", "password": "wrong horse battery 9"}, 401, wrong},
					{"alias wrong password", "/", map[string]any{"email": "alice@example.com", "password": "wrong horse battery 9"}, 401, wrong},
					{"garbage email", "/login", map[string]any{"email": "not an email", "password": testPassword}, 401, unknown},
					{"missing password", "/login", map[string]any{"email": "alice@example.com"}, 400, msgLoginFieldsMiss},
					{"empty email", "/login", map[string]any{"email": "", "password": testPassword}, 400, msgLoginFieldsMiss},
					{"empty object", "/", map[string]any{}, 400, msgLoginFieldsMiss},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						r := call(t, env.Handler, "POST", tt.path, jsonBody(tt.body))
						if tt.msg == "" {
							access, _ := wantTokens(t, r)
							if len(r.Body) != 4 {
								t.Fatalf("unexpected fields: %s", r.Raw)
							}
							if me := call(t, env.Handler, "GET", "/me", "", withToken(access)); me.Status != 200 {
								t.Fatalf("/me with the new token = %d %s", me.Status, me.Raw)
							}
							return
						}
						wantMessage(t, r, tt.status, tt.msg)
						if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
							t.Fatalf("Cache-Control = %q", cc)
						}
					})
				}
			})
		}
	}
}

func TestAPIRefresh(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			signup(t, h, "rot@example.com")
			access1, r1 := login(t, h, "rot@example.com", testPassword)

			access2, r2 := wantTokens(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": r1})))
			if r2 == r1 || access2 == access1 {
				t.Fatal("refresh did not rotate the tokens")
			}
			if me := call(t, h, "GET", "/me", "", withToken(access2)); me.Status != 200 {
				t.Fatalf("/me with refreshed token = %d %s", me.Status, me.Raw)
			}
			// Reusing r1 is theft: the whole session dies, r2 and its
			// access token included (SEC-17).
			reuse := call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": r1}))
			wantMessage(t, reuse, 401, "Invalid or expired token.")
			wantMessage(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": r2})), 401, "Invalid or expired token.")
			wantMessage(t, call(t, h, "GET", "/me", "", withToken(access2)), 401, "Invalid or expired token.")

			for _, body := range []string{
				`{"refresh_token":"nope"}`, // malformed
				jsonBody(map[string]string{"refresh_token": uuid.NewString() + ".AAAA"}), // unknown family
				jsonBody(map[string]string{"refresh_token": access1}),                    // an access token
			} {
				wantMessage(t, call(t, h, "POST", "/refresh", body), 401, "Invalid or expired token.")
			}
			wantMessage(t, call(t, h, "POST", "/refresh", `{}`), 400, msgRefreshTokenMiss)
		})
	}
}

// TestAPITokenOnlyFromHeader: a token in the query string, a cookie or a
// non-Bearer scheme is not a token (SEC-22).
func TestAPITokenOnlyFromHeader(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	signup(t, env.Handler, "q@example.com")
	access, _ := login(t, env.Handler, "q@example.com", testPassword)
	tests := []struct {
		name string
		path string
		opts []reqOpt
	}{
		{"query", "/me?access_token=" + access, nil},
		{"cookie", "/me", []reqOpt{withHeader("Cookie", "access_token_cookie="+access)}},
		{"basic scheme", "/me", []reqOpt{withHeader("Authorization", "Basic "+access)}},
		{"no space", "/me", []reqOpt{withHeader("Authorization", "Bearer"+access)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, env.Handler, "GET", tt.path, "", tt.opts...)
			wantMessage(t, r, http.StatusUnauthorized, "Missing bearer token")
		})
	}
}
