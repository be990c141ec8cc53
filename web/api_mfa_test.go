package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"user-registry/provider"
)

// totpCode is the code an authenticator app shows for secret at t.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTPAPI enables TOTP through the JSON API with the user's access
// token and returns the secret and the recovery codes.
func enrolTOTPAPI(t testing.TB, h http.Handler, access string) (string, []string) {
	t.Helper()
	start := call(t, h, "POST", "/mfa/totp", `{"password":"`+testPassword+`"}`, withToken(access))
	if start.Status != 200 || start.str("secret") == "" || start.str("otpauth_uri") == "" {
		t.Fatalf("POST /mfa/totp = %d %s", start.Status, start.Raw)
	}
	secret := start.str("secret")
	conf := call(t, h, "POST", "/mfa/totp/confirm", jsonBody(map[string]string{"code": totpCode(t, secret, time.Now())}), withToken(access))
	if conf.Status != 200 || conf.str("message") != "Two-factor authentication enabled" {
		t.Fatalf("POST /mfa/totp/confirm = %d %s", conf.Status, conf.Raw)
	}
	var codes []string
	for _, c := range conf.Body["recovery_codes"].([]any) {
		codes = append(codes, c.(string))
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	return secret, codes
}

// mfaChallengeAPI posts the password and expects the second-factor 401.
func mfaChallengeAPI(t testing.TB, h http.Handler, email string) (token string, methods []string) {
	t.Helper()
	r := call(t, h, "POST", "/login", jsonBody(map[string]string{"email": email, "password": testPassword}))
	if r.Status != 401 || r.str("message") != "Second factor required." || r.str("mfa_token") == "" {
		t.Fatalf("POST /login = %d %s, want the second-factor 401", r.Status, r.Raw)
	}
	for _, m := range r.Body["methods"].([]any) {
		methods = append(methods, m.(string))
	}
	return r.str("mfa_token"), methods
}

// amrOf verifies an access token and returns its amr and acr.
func amrOf(t testing.TB, env *testEnv, access string) ([]string, string) {
	t.Helper()
	c, err := env.Tokens.VerifyAccess(context.Background(), access, "")
	if err != nil {
		t.Fatal(err)
	}
	return c.AMR, c.ACR
}

// TestMFAAPI runs TOTP and recovery codes through the JSON API on every
// backend: enrolment, the 401 with mfa_token, /login/mfa with TOTP and a
// recovery code, amr/acr before and after a refresh, the enrolment code
// refused at sign-in, the token dying on success, and removal.
func TestMFAAPI(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			const email = "ann@example.com"
			signup(t, h, email)
			access, _ := login(t, h, email, testPassword)
			if amr, acr := amrOf(t, env, access); !slices.Equal(amr, []string{"pwd"}) || acr != "pwd" {
				t.Fatalf("password-only amr %v acr %q", amr, acr)
			}

			wantMessage(t, call(t, h, "POST", "/mfa/totp", `{"password":"nope nope nope 1"}`, withToken(access)), 401, "Wrong password.")
			wantMessage(t, call(t, h, "POST", "/mfa/totp", `{}`, withToken(access)), 401, "Wrong password.")
			wantMessage(t, call(t, h, "POST", "/mfa/totp/confirm", `{"code":"123456"}`, withToken(access)), 409, provider.ErrNothingPending.Error())
			start := call(t, h, "POST", "/mfa/totp", `{"password":"`+testPassword+`"}`, withToken(access))
			wantMessage(t, call(t, h, "POST", "/mfa/totp/confirm", `{"code":"`+totpCode(t, start.str("secret"), time.Now().Add(-time.Hour))+`"}`, withToken(access)), 400, "Wrong code.")
			secret, codes := enrolTOTPAPI(t, h, access)
			enrolCode := totpCode(t, secret, time.Now())
			wantMessage(t, call(t, h, "POST", "/mfa/totp", `{"password":"`+testPassword+`"}`, withToken(access)), 409, provider.ErrMFAAlreadyEnabled.Error())
			st := call(t, h, "GET", "/mfa", "", withToken(access))
			if st.Status != 200 || st.Body["totp"] != true || st.Body["recovery_codes_left"] != float64(10) || len(st.Body["passkeys"].([]any)) != 0 {
				t.Fatalf("GET /mfa = %d %s", st.Status, st.Raw)
			}

			tok, methods := mfaChallengeAPI(t, h, email)
			if !slices.Equal(methods, []string{"totp", "recovery_code"}) {
				t.Fatalf("methods %v", methods)
			}
			// The mfa_token opens nothing but /login/mfa (SEC-59).
			wantMessage(t, call(t, h, "GET", "/me", "", withToken(tok)), 401, "Invalid or expired token.")
			wantMessage(t, call(t, h, "GET", "/mfa", "", withToken(tok)), 401, "Invalid or expired token.")
			wantMessage(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": tok})), 401, "Invalid or expired token.")
			// The enrolment code's step is used up.
			wantMessage(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": enrolCode})), 401, "Wrong code.")
			ok := call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": totpCode(t, secret, time.Now().Add(30*time.Second))}))
			mfaAccess, mfaRefresh := wantTokens(t, ok)
			if amr, acr := amrOf(t, env, mfaAccess); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) || acr != "mfa" {
				t.Fatalf("password+TOTP amr %v acr %q", amr, acr)
			}
			wantMessage(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": codes[0]})), 401, "Second factor expired. Sign in again.")
			wantMessage(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": "unknown", "code": codes[0]})), 401, "Second factor expired. Sign in again.")
			refreshed, _ := wantTokens(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": mfaRefresh})))
			if amr, acr := amrOf(t, env, refreshed); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) || acr != "mfa" {
				t.Fatalf("refreshed amr %v acr %q", amr, acr)
			}

			tok, _ = mfaChallengeAPI(t, h, email)
			rc, _ := wantTokens(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": codes[1]})))
			if amr, _ := amrOf(t, env, rc); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
				t.Fatalf("password+recovery code amr %v", amr)
			}
			tok, _ = mfaChallengeAPI(t, h, email)
			wantMessage(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": codes[1]})), 401, "Wrong code.")

			fresh := call(t, h, "POST", "/mfa/recovery-codes", `{"password":"`+testPassword+`"}`, withToken(access))
			if fresh.Status != 200 || len(fresh.Body["recovery_codes"].([]any)) != 10 {
				t.Fatalf("POST /mfa/recovery-codes = %d %s", fresh.Status, fresh.Raw)
			}
			wantMessage(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": codes[2]})), 401, "Wrong code.")

			wantMessage(t, call(t, h, "DELETE", "/mfa/totp", `{"password":"nope nope nope 1"}`, withToken(access)), 401, "Wrong password.")
			if r := call(t, h, "DELETE", "/mfa/totp", `{"password":"`+testPassword+`"}`, withToken(access)); r.Status != 204 {
				t.Fatalf("DELETE /mfa/totp = %d %s", r.Status, r.Raw)
			}
			st = call(t, h, "GET", "/mfa", "", withToken(access))
			if st.Body["totp"] != false || st.Body["recovery_codes_left"] != float64(0) {
				t.Fatalf("GET /mfa after removal = %s", st.Raw)
			}
			wantMessage(t, call(t, h, "POST", "/mfa/recovery-codes", `{"password":"`+testPassword+`"}`, withToken(access)), 409, provider.ErrNoFactor.Error())
			wantMessage(t, call(t, h, "DELETE", "/mfa/totp", `{"password":"`+testPassword+`"}`, withToken(access)), 409, provider.ErrTOTPNotEnabled.Error())
			login(t, h, email, testPassword)
		})
	}
}

// TestMFAWrongCodesRateLimited: wrong codes at /login/mfa count against
// --limit-login-account; over it the answer is 429 (SEC-55).
func TestMFAWrongCodesRateLimited(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b, func(_ *Config, a *provider.AccountsConfig) { a.LoginLimit = "3/15m" })
			h := env.Handler
			signup(t, h, "ann@example.com")
			access, _ := login(t, h, "ann@example.com", testPassword)
			secret, _ := enrolTOTPAPI(t, h, access)
			tok, _ := mfaChallengeAPI(t, h, "ann@example.com")
			for range 3 {
				wantMessage(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": "000000"})), 401, "Wrong code.")
			}
			r := call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": totpCode(t, secret, time.Now().Add(30*time.Second))}))
			if r.Status != 429 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("over the limit: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// TestRequireMFAAPI: a domain requiring a second factor refuses /login
// without one (403), ends password-only sessions at /refresh (401), keeps
// the last factor (409), and admits password + code (SEC-59).
func TestRequireMFAAPI(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newOAuthEnv(t, b, "0")
			h := env.Handler
			id, sec := env.client(t, provider.ClientSpec{Domain: "example.com", Admin: true})
			admin := env.authorityToken(t, id, sec)
			signup(t, h, "ann@corp.example")
			access, refresh := login(t, h, "ann@corp.example", testPassword)

			put := call(t, h, "PUT", "/admin/domains/Corp.Example", `{"belongs_to":0,"require_mfa":true}`, withToken(admin))
			if put.Status != 200 || put.Body["require_mfa"] != true || put.str("domain") != "corp.example" {
				t.Fatalf("PUT /admin/domains = %d %s", put.Status, put.Raw)
			}
			list := call(t, h, "GET", "/admin/domains", "", withToken(admin))
			if d := list.Body["domains"].([]any)[0].(map[string]any); d["require_mfa"] != true {
				t.Fatalf("GET /admin/domains = %s", list.Raw)
			}
			bad := call(t, h, "PUT", "/admin/domains/corp.example", `{"belongs_to":1,"require_mfa":true}`, withToken(admin))
			wantMessage(t, bad, 400, "require_mfa applies to allowed domains only")

			wantMessage(t, call(t, h, "POST", "/login", jsonBody(map[string]string{"email": "ann@corp.example", "password": testPassword})),
				403, "Your domain requires two-factor authentication. Set it up on the account page.")
			wantMessage(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh})), 401, "Invalid or expired token.")

			// The access token still works for enrolment (the account page).
			secret, _ := enrolTOTPAPI(t, h, access)
			wantMessage(t, call(t, h, "DELETE", "/mfa/totp", `{"password":"`+testPassword+`"}`, withToken(access)), 409, provider.ErrLastFactor.Error())
			tok, _ := mfaChallengeAPI(t, h, "ann@corp.example")
			_, mfaRefresh := wantTokens(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": totpCode(t, secret, time.Now().Add(30*time.Second))})))
			wantTokens(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": mfaRefresh})))

			// A plain allow sets it back.
			put = call(t, h, "PUT", "/admin/domains/corp.example", `{"belongs_to":0}`, withToken(admin))
			if put.Status != 200 || put.Body["require_mfa"] != false {
				t.Fatalf("PUT plain allow = %d %s", put.Status, put.Raw)
			}
			if r := call(t, h, "DELETE", "/mfa/totp", `{"password":"`+testPassword+`"}`, withToken(access)); r.Status != 204 {
				t.Fatalf("DELETE /mfa/totp after the rule went = %d %s", r.Status, r.Raw)
			}
		})
	}
}

// TestMFALoginDPoP: /login/mfa takes a DPoP proof like /login and binds
// the tokens to its key (SPEC §11); a bad proof costs no code.
func TestMFALoginDPoP(t *testing.T) {
	e := newOAuthEnv(t, "sqlite+memory", "0")
	h := e.Handler
	signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	secret, codes := enrolTOTPAPI(t, h, access)
	s := newProofSigner(t)
	tok, _ := mfaChallengeAPI(t, h, "ann@example.com")
	body := jsonBody(map[string]string{"mfa_token": tok, "code": totpCode(t, secret, time.Now().Add(30*time.Second))})
	if a := e.post(t, "/login/mfa", body, "application/json", withDPoP("x.y.z")); a.status != 400 {
		t.Fatalf("a bad proof: %d %s", a.status, a.body)
	}
	a := e.post(t, "/login/mfa", body, "application/json", withDPoP(e.proofFor(t, s, "POST", "/login/mfa", "")))
	if a.status != 200 || a.json["token_type"] != "DPoP" {
		t.Fatalf("/login/mfa with a proof: %d %s", a.status, a.body)
	}
	c, err := e.Tokens.VerifyAccess(context.Background(), a.json["access_token"].(string), "")
	if err != nil || c.JKT != s.JKT() || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("bound token: jkt %q amr %v %v", c.JKT, c.AMR, err)
	}
	// Without a proof the tokens are Bearer.
	tok, _ = mfaChallengeAPI(t, h, "ann@example.com")
	wantTokens(t, call(t, h, "POST", "/login/mfa", jsonBody(map[string]string{"mfa_token": tok, "code": codes[0]})))
}

// TestAdminMFAReset: DELETE /admin/users/{id}/mfa removes the user's
// factors (TOTP and passkeys); the user object shows them before and not after, and the
// password alone signs in again (SPEC §13).
func TestAdminMFAReset(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newAdminUsersEnv(t, b)
			enrolTOTPAPI(t, e.Handler, e.user)
			key := newSoftKey(t, e.testEnv)
			registerPasskey(t, e.Handler, e.user, key, "")
			path := "/admin/users/" + e.ids["alice"]
			if a := e.req(t, "GET", path, "", e.admin); a.status != 200 || a.json["mfa"].(map[string]any)["totp"] != true ||
				a.json["mfa"].(map[string]any)["passkeys"] != float64(1) {
				t.Fatalf("GET %s = %d %s", path, a.status, a.body)
			}
			mfaChallengeAPI(t, e.Handler, "alice@corp.example")
			if a := e.req(t, "DELETE", path+"/mfa", "", e.corp); a.status != 204 {
				t.Fatalf("DELETE %s/mfa = %d %s", path, a.status, a.body)
			}
			if a := e.req(t, "GET", path, "", e.admin); a.json["mfa"].(map[string]any)["totp"] != false || a.json["mfa"].(map[string]any)["passkeys"] != float64(0) {
				t.Fatalf("after reset: %s", a.body)
			}
			login(t, e.Handler, "alice@corp.example", testPassword)
			wantMessage(t, passkeySignIn(t, e.Handler, key, ""), 401, provider.ErrPasskeySignIn.Error()) // the passkey went too
		})
	}
}

// TestTOTPWindowBackends: on each backend (the factor in SQLite or MySQL,
// the challenge in memory or Redis) codes one step either side pass and
// two steps do not; the clock is a fake one given to the second-factor
// owner.
func TestTOTPWindowBackends(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
			m, err := provider.NewMFA(provider.MFADeps{Accounts: env.Accounts, Store: env.DB, Challenges: env.Eph,
				Secret: env.Secret, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i, steps := range []int{-2, -1, 0, 1, 2} {
				email := "w" + strconv.Itoa(i) + "@example.com"
				id := signup(t, env.Handler, email)
				en, err := m.StartTOTP(ctx, id, testPassword)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := m.ConfirmTOTP(ctx, id, totpCode(t, en.Secret, now)); err != nil {
					t.Fatal(err)
				}
				now = now.Add(time.Hour)
				_, err = m.Login(ctx, email, testPassword, "")
				var need *provider.MFARequiredError
				if !errors.As(err, &need) {
					t.Fatalf("Login: %v", err)
				}
				_, err = m.VerifyLogin(ctx, need.Token, totpCode(t, en.Secret, now.Add(time.Duration(steps)*30*time.Second)), "")
				if ok := steps >= -1 && steps <= 1; ok && err != nil || !ok && !errors.Is(err, provider.ErrWrongCode) {
					t.Errorf("%+d steps: %v", steps, err)
				}
			}
		})
	}
}
