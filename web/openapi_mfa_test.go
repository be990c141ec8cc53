package web

import (
	"encoding/json"
	"testing"
	"time"
)

// openAPIMFA runs the second-factor endpoints of SPEC §10 (all but the
// passkey ones) through the contract: enrolment, the /login 401 with its
// mfa_token, /login/mfa, the status, new recovery codes and removal.
func openAPIMFA(t *testing.T, env *mailEnv, api *apiContract) {
	const email, pw = "mfa@example.com", testPassword
	bearer := func(tok string) string { return "Bearer " + tok }
	field := func(body []byte, key string) any {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return m[key]
	}
	str := func(body []byte, key string) string { s, _ := field(body, key).(string); return s }
	api.do(apiCall{method: "POST", path: "/signup", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 201})
	api.do(apiCall{method: "GET", path: "/verify-email", query: "token=" + env.token(t, email, "/verify-email"), want: 200})
	access := str(api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 200}).Body.Bytes(), "access_token")
	pwBody := jsonBody(map[string]string{"password": pw})

	api.do(apiCall{method: "GET", path: "/mfa", want: 401})
	api.do(apiCall{method: "POST", path: "/mfa/totp/confirm", auth: bearer(access), body: `{"code":"123456"}`, want: 409})
	api.do(apiCall{method: "POST", path: "/mfa/totp", auth: bearer(access), body: `{"password":"wrong password 1"}`, want: 401})
	start := api.do(apiCall{method: "POST", path: "/mfa/totp", auth: bearer(access), body: pwBody, want: 200})
	secret := str(start.Body.Bytes(), "secret")
	api.do(apiCall{method: "POST", path: "/mfa/totp/confirm", auth: bearer(access), body: jsonBody(map[string]string{"code": totpCode(t, secret, time.Now().Add(-time.Hour))}), want: 400})
	conf := api.do(apiCall{method: "POST", path: "/mfa/totp/confirm", auth: bearer(access), body: jsonBody(map[string]string{"code": totpCode(t, secret, time.Now())}), want: 200})
	codes, _ := field(conf.Body.Bytes(), "recovery_codes").([]any)
	if len(codes) != 10 {
		t.Fatalf("confirm: %s", conf.Body)
	}
	api.do(apiCall{method: "POST", path: "/mfa/totp", auth: bearer(access), body: pwBody, want: 409})
	api.do(apiCall{method: "GET", path: "/mfa", auth: bearer(access), want: 200})

	need := api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 401})
	tok := str(need.Body.Bytes(), "mfa_token")
	api.do(apiCall{method: "POST", path: "/", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 401})
	api.do(apiCall{method: "POST", path: "/login/mfa", body: jsonBody(map[string]string{"mfa_token": tok, "code": "000000"}), want: 401})
	api.do(apiCall{method: "POST", path: "/login/mfa", body: jsonBody(map[string]string{"mfa_token": tok}), want: 400})
	api.do(apiCall{method: "POST", path: "/login/mfa", body: jsonBody(map[string]string{"mfa_token": tok, "code": codes[0].(string)}), want: 200})
	api.do(apiCall{method: "POST", path: "/login/mfa", body: jsonBody(map[string]string{"mfa_token": tok, "code": codes[1].(string)}), want: 401})

	api.do(apiCall{method: "POST", path: "/mfa/recovery-codes", auth: bearer(access), body: `{"password":"wrong password 1"}`, want: 401})
	api.do(apiCall{method: "POST", path: "/mfa/recovery-codes", auth: bearer(access), body: pwBody, want: 200})
	api.do(apiCall{method: "DELETE", path: "/mfa/totp", auth: bearer(access), body: `{"password":"wrong password 1"}`, want: 401})
	api.do(apiCall{method: "DELETE", path: "/mfa/totp", auth: bearer(access), body: pwBody, want: 204})
	api.do(apiCall{method: "DELETE", path: "/mfa/totp", auth: bearer(access), body: pwBody, want: 409})
	api.do(apiCall{method: "POST", path: "/mfa/recovery-codes", auth: bearer(access), body: pwBody, want: 409})
}

// openAPIPasskeys runs the passkey endpoints of SPEC §10 through the
// contract with a software authenticator: registration, passwordless and
// second-factor sign-in, refusals and removal.
func openAPIPasskeys(t *testing.T, env *mailEnv, api *apiContract) {
	const email, pw = "passkey@example.com", testPassword
	str := func(body []byte, key string) string {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		s, _ := m[key].(string)
		return s
	}
	bearer := "Bearer "
	api.do(apiCall{method: "POST", path: "/signup", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 201})
	api.do(apiCall{method: "GET", path: "/verify-email", query: "token=" + env.token(t, email, "/verify-email"), want: 200})
	access := str(api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 200}).Body.Bytes(), "access_token")
	pwBody := jsonBody(map[string]string{"password": pw})
	key := newSoftKey(t, env.testEnv)

	api.do(apiCall{method: "POST", path: "/mfa/passkeys/begin", auth: bearer + access, body: `{"password":"wrong password 1"}`, want: 401})
	begin := api.do(apiCall{method: "POST", path: "/mfa/passkeys/begin", auth: bearer + access, body: pwBody, want: 200})
	reg := jsonBody(map[string]any{"name": "Key", "credential": key.attest(t, begin.Body.String())})
	created := api.do(apiCall{method: "POST", path: "/mfa/passkeys/finish", auth: bearer + access, body: reg, want: 201})
	api.do(apiCall{method: "POST", path: "/mfa/passkeys/finish", auth: bearer + access, body: reg, want: 400})

	lb := api.do(apiCall{method: "POST", path: "/login/passkey/begin", body: `{}`, want: 200})
	fin := jsonBody(map[string]any{"login_id": str(lb.Body.Bytes(), "login_id"), "credential": key.assert(t, lb.Body.String())})
	api.do(apiCall{method: "POST", path: "/login/passkey/finish", body: fin, want: 200})
	api.do(apiCall{method: "POST", path: "/login/passkey/finish", body: fin, want: 401})
	api.do(apiCall{method: "POST", path: "/login/passkey/begin", body: `{"mfa_token":"unknown"}`, want: 401})
	need := api.do(apiCall{method: "POST", path: "/login", body: jsonBody(map[string]string{"email": email, "password": pw}), want: 401})
	lb = api.do(apiCall{method: "POST", path: "/login/passkey/begin", body: jsonBody(map[string]string{"mfa_token": str(need.Body.Bytes(), "mfa_token")}), want: 200})
	fin = jsonBody(map[string]any{"login_id": str(lb.Body.Bytes(), "login_id"), "credential": key.assert(t, lb.Body.String())})
	api.do(apiCall{method: "POST", path: "/login/passkey/finish", body: fin, want: 200})

	id := map[string]string{"id": str(created.Body.Bytes(), "id")}
	api.do(apiCall{method: "DELETE", path: "/mfa/passkeys/{id}", params: id, auth: bearer + access, body: `{"password":"wrong password 1"}`, want: 401})
	api.do(apiCall{method: "DELETE", path: "/mfa/passkeys/{id}", params: map[string]string{"id": "unknown"}, auth: bearer + access, body: pwBody, want: 404})
	api.do(apiCall{method: "DELETE", path: "/mfa/passkeys/{id}", params: id, auth: bearer + access, body: pwBody, want: 204})
}
