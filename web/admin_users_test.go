package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage/sqlstore"
)

// withUserAdmin serves /admin/users over the env's stores.
func withUserAdmin(c *Config, _ *provider.AccountsConfig) {
	db := c.DomainAdmin.Store.(*sqlstore.Store)
	eph := c.Ready["sessions"].(ephemeralStore)
	ua, err := provider.NewUserAdmin(provider.UserAdminDeps{Users: db, Revocations: eph, Consents: eph,
		MFA: &provider.MFAAdmin{Store: db, Passkeys: provider.PasskeyRecords{Store: db}}})
	if err != nil {
		panic(err)
	}
	c.UserAdmin = ua
}

// adminUsersEnv is a server with clients and /admin/users, four users in
// three domains (alice and bob of corp.example, carol of its subdomain,
// dave of other.example), and tokens of a registry admin, a domain admin
// of corp.example, a plain client and a user.
type adminUsersEnv struct {
	oauthEnv
	ids                      map[string]string // by local part
	admin, corp, plain, user string
}

func newAdminUsersEnv(t *testing.T, backend string) adminUsersEnv {
	t.Helper()
	e := adminUsersEnv{oauthEnv: oauthEnv{}, ids: map[string]string{}}
	env := newTestEnv(t, backend, withClients("0"), withUserAdmin)
	e.oauthEnv = oauthEnv{env, env.Config.Clients}
	for _, email := range []string{"alice@corp.example", "bob@corp.example", "carol@sub.corp.example", "dave@other.example"} {
		e.ids[email[:strings.IndexByte(email, '@')]] = signup(t, e.Handler, email)
	}
	e.admin = e.tokenOf(t, provider.ClientSpec{Domain: "ops.example", Admin: true})
	e.corp = e.tokenOf(t, provider.ClientSpec{Domain: "corp.example", DomainAdmin: true})
	e.plain = e.tokenOf(t, provider.ClientSpec{Domain: "corp.example", Scopes: []string{"read"}})
	e.user, _ = login(t, e.Handler, "alice@corp.example", testPassword)
	return e
}

// tokenOf registers a client and returns an authority token of it.
func (e adminUsersEnv) tokenOf(t *testing.T, spec provider.ClientSpec) string {
	t.Helper()
	id, secret := e.client(t, spec)
	return e.authorityToken(t, id, secret)
}

// req sends an admin request with token tok ("" for none).
func (e adminUsersEnv) req(t *testing.T, method, path, body, tok string) answer {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	var auth func(*http.Request)
	if tok != "" {
		auth = bearer(tok)
	}
	return e.do(t, method, path, body, ct, auth)
}

// TestAdminUsersAuthorization (SEC-69): user tokens and clients without an
// admin scope get 403 everywhere; a domain admin gets 403 on
// /admin/domains and 404 for every user outside its exact domain (a
// subdomain's too), whatever the verb, and changes nothing there.
func TestAdminUsersAuthorization(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newAdminUsersEnv(t, b)
			u := func(name string) string { return "/admin/users/" + e.ids[name] }
			cases := []struct {
				name, method, path, body, tok string
				status                        int
			}{
				{"no token", "GET", "/admin/users", "", "", 401},
				{"user token list", "GET", "/admin/users", "", e.user, 403},
				{"user token show self", "GET", u("alice"), "", e.user, 403},
				{"user token disable", "PATCH", u("bob"), `{"disabled":true}`, e.user, 403},
				{"plain client list", "GET", "/admin/users", "", e.plain, 403},
				{"plain client delete", "DELETE", u("bob"), "", e.plain, 403},
				{"domain admin on /admin/domains", "GET", "/admin/domains", "", e.corp, 403},
				{"domain admin puts a domain", "PUT", "/admin/domains/x.example", `{"belongs_to":1}`, e.corp, 403},
				{"domain admin shows own user", "GET", u("alice"), "", e.corp, 200},
				{"domain admin shows own user by email", "GET", "/admin/users/Bob@corp.example", "", e.corp, 200},
				{"domain admin shows subdomain user", "GET", u("carol"), "", e.corp, 404},
				{"domain admin shows other user", "GET", u("dave"), "", e.corp, 404},
				{"domain admin shows other by email", "GET", "/admin/users/dave@other.example", "", e.corp, 404},
				{"domain admin disables other", "PATCH", u("dave"), `{"disabled":true}`, e.corp, 404},
				{"domain admin logs other out", "POST", u("dave") + "/logout", "", e.corp, 404},
				{"domain admin resets other mfa", "DELETE", u("dave") + "/mfa", "", e.corp, 404},
				{"domain admin deletes other", "DELETE", u("dave"), "", e.corp, 404},
				{"domain admin deletes subdomain user", "DELETE", u("carol"), "", e.corp, 404},
				{"registry admin shows any", "GET", u("dave"), "", e.admin, 200},
				{"registry admin on /admin/domains", "GET", "/admin/domains", "", e.admin, 200},
				{"unknown id", "GET", "/admin/users/00000000-0000-4000-8000-000000000000", "", e.admin, 404},
				{"unknown email", "DELETE", "/admin/users/nobody@corp.example", "", e.admin, 404},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					a := e.req(t, tc.method, tc.path, tc.body, tc.tok)
					if a.status != tc.status {
						t.Fatalf("= %d %s, want %d", a.status, a.body, tc.status)
					}
					if tc.status >= 400 && a.json["message"] == nil {
						t.Fatalf("error body %s", a.body)
					}
				})
			}
			// Nothing outside the domain changed.
			for _, name := range []string{"carol", "dave"} {
				a := e.req(t, "GET", u(name), "", e.admin)
				if a.status != 200 || a.json["disabled"] != false {
					t.Errorf("%s after the domain admin's attempts: %d %s", name, a.status, a.body)
				}
			}
			// The domain admin's list is its domain's, whatever it asks.
			for _, q := range []string{"", "?domain=other.example", "?domain=sub.corp.example", "?domain=corp.example", "?q=dave"} {
				a := e.req(t, "GET", "/admin/users"+q, "", e.corp)
				users, _ := a.json["users"].([]any)
				if a.status != 200 {
					t.Fatalf("list%s = %d %s", q, a.status, a.body)
				}
				for _, x := range users {
					if d := x.(map[string]any)["domain"]; d != "corp.example" {
						t.Errorf("list%s: domain admin sees a user of %v", q, d)
					}
				}
				if want := q == "" || q == "?domain=corp.example"; want != (len(users) == 2) {
					t.Errorf("list%s: %d users", q, len(users))
				}
			}
		})
	}
}

// TestAdminUsersList: the object shape, newest first, paging by
// next_cursor (absent on the last page), filters, and 400 for a limit
// over 500, a bad limit or a bad cursor.
func TestAdminUsersList(t *testing.T) {
	e := newAdminUsersEnv(t, "sqlite+memory")
	a := e.req(t, "GET", "/admin/users?limit=500", "", e.admin)
	if a.status != 200 || a.json["next_cursor"] != nil {
		t.Fatalf("full list = %d %s", a.status, a.body)
	}
	users := a.json["users"].([]any)
	if len(users) != 4 {
		t.Fatalf("%d users", len(users))
	}
	var all []string
	for _, x := range users {
		all = append(all, x.(map[string]any)["user_id"].(string))
	}
	want := []string{e.ids["dave"], e.ids["carol"], e.ids["bob"], e.ids["alice"]}
	if !slices.Equal(all, want) {
		t.Errorf("order %v, want newest first %v", all, want)
	}
	alice := users[3].(map[string]any)
	keys := make([]string, 0, len(alice))
	for k := range alice {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if got := strings.Join(keys, ","); got != "created_at,disabled,domain,email,is_activated,last_login_at,mfa,phone_num,user_id" {
		t.Errorf("user object keys: %s", got)
	}
	if mfa := alice["mfa"].(map[string]any); mfa["totp"] != false || mfa["passkeys"] != float64(0) {
		t.Errorf("mfa = %v", mfa)
	}
	if _, err := time.Parse(time.RFC3339, alice["created_at"].(string)); err != nil {
		t.Errorf("created_at: %v", err)
	}
	if s, _ := alice["last_login_at"].(string); s == "" {
		t.Errorf("alice signed in, last_login_at = %v", alice["last_login_at"])
	} else if _, err := time.Parse(time.RFC3339, s); err != nil {
		t.Errorf("last_login_at: %v", err)
	}
	if users[0].(map[string]any)["last_login_at"] != nil {
		t.Errorf("dave never signed in, last_login_at = %v", users[0].(map[string]any)["last_login_at"])
	}

	var paged []string
	next := ""
	for pages := 0; pages < 10; pages++ {
		a := e.req(t, "GET", "/admin/users?limit=1&cursor="+url.QueryEscape(next), "", e.admin)
		if a.status != 200 {
			t.Fatalf("page = %d %s", a.status, a.body)
		}
		for _, x := range a.json["users"].([]any) {
			paged = append(paged, x.(map[string]any)["user_id"].(string))
		}
		next, _ = a.json["next_cursor"].(string)
		if next == "" {
			break
		}
	}
	if !slices.Equal(paged, want) {
		t.Errorf("pages joined %v, want %v", paged, want)
	}
	for q, n := range map[string]int{"?q=ALICE": 1, "?q=corp": 3, "?domain=corp.example": 2, "?domain=CORP.example.&q=bob": 1, "?q=%25": 0} {
		a := e.req(t, "GET", "/admin/users"+q, "", e.admin)
		if got := len(a.json["users"].([]any)); a.status != 200 || got != n {
			t.Errorf("list%s = %d, %d users, want %d", q, a.status, got, n)
		}
	}
	for _, q := range []string{"?limit=501", "?limit=0", "?limit=-1", "?limit=ten", "?cursor=nope", "?cursor=MTIz", "?domain=-bad-"} {
		if a := e.req(t, "GET", "/admin/users"+q, "", e.admin); a.status != 400 || a.json["message"] == nil {
			t.Errorf("list%s = %d %s, want 400", q, a.status, a.body)
		}
	}
}

// TestAdminUsersActions (SEC-70): disabling through the API refuses the
// user's access token, refresh token and sign-in (403 "This account is
// disabled."); enabling allows sign-in but not the old tokens; logout ends
// the tokens; mfa reset answers 204; delete removes the user.
func TestAdminUsersActions(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newAdminUsersEnv(t, b)
			access, refresh := login(t, e.Handler, "bob@corp.example", testPassword)
			bob := "/admin/users/" + e.ids["bob"]
			for _, body := range []string{`{}`, `{"disabled":"yes"}`, `{"disabled":true,"role":"x"}`, `not json`} {
				if a := e.req(t, "PATCH", bob, body, e.corp); a.status != 400 {
					t.Errorf("PATCH %s = %d %s, want 400", body, a.status, a.body)
				}
			}
			a := e.req(t, "PATCH", bob, `{"disabled":true}`, e.corp)
			if a.status != 200 || a.json["disabled"] != true || a.json["user_id"] != e.ids["bob"] {
				t.Fatalf("disable = %d %s", a.status, a.body)
			}
			refused := func(when string) {
				t.Helper()
				if r := call(t, e.Handler, "GET", "/me", "", withToken(access)); r.Status != 401 {
					t.Errorf("%s: /me with the old token = %d", when, r.Status)
				}
				if r := call(t, e.Handler, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh})); r.Status != 401 {
					t.Errorf("%s: refresh = %d", when, r.Status)
				}
			}
			refused("disabled")
			r := call(t, e.Handler, "POST", "/login", jsonBody(map[string]string{"email": "bob@corp.example", "password": testPassword}))
			if r.Status != 403 || r.Body["message"] != "This account is disabled." {
				t.Errorf("login of a disabled user = %d %v", r.Status, r.Body)
			}
			if a := e.req(t, "PATCH", bob, `{"disabled":false}`, e.corp); a.status != 200 || a.json["disabled"] != false {
				t.Fatalf("enable = %d %s", a.status, a.body)
			}
			refused("enabled again")
			access, _ = login(t, e.Handler, "bob@corp.example", testPassword)
			if r := call(t, e.Handler, "GET", "/me", "", withToken(access)); r.Status != 200 {
				t.Fatalf("/me after enabling = %d", r.Status)
			}
			if a := e.req(t, "POST", bob+"/logout", "", e.corp); a.status != 204 {
				t.Fatalf("logout = %d %s", a.status, a.body)
			}
			if r := call(t, e.Handler, "GET", "/me", "", withToken(access)); r.Status != 401 {
				t.Errorf("/me after admin logout = %d", r.Status)
			}
			if a := e.req(t, "DELETE", bob+"/mfa", "", e.corp); a.status != 204 {
				t.Errorf("mfa reset = %d %s", a.status, a.body)
			}
			if a := e.req(t, "DELETE", bob, "", e.corp); a.status != 204 {
				t.Fatalf("delete = %d %s", a.status, a.body)
			}
			if a := e.req(t, "GET", bob, "", e.admin); a.status != 404 {
				t.Errorf("deleted user = %d %s", a.status, a.body)
			}
		})
	}
}
