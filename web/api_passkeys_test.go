package web

import (
	"context"
	"slices"
	"testing"

	"user-registry/provider"
	"user-registry/storage"
)

// TestPasskeyRegisterAndSignIn runs passkeys through the JSON API on every
// backend (the passkey in SQLite or MySQL, the ceremonies in memory or
// Redis): registration, GET /mfa listing it, a passwordless sign-in (amr
// ["hwk","user","mfa"], acr mfa, kept by a refresh), and the second factor
// after /login (methods list passkey; amr ["pwd","hwk","mfa"]; the
// mfa_token dies on success).
func TestPasskeyRegisterAndSignIn(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			h := env.Handler
			const email = "ann@example.com"
			signup(t, h, email)
			access, _ := login(t, h, email, testPassword)
			key := newSoftKey(t, env)

			begin := call(t, h, "POST", "/mfa/passkeys/begin", `{"password":"`+testPassword+`"}`, withToken(access))
			pk, _ := begin.Body["publicKey"].(map[string]any)
			sel, _ := pk["authenticatorSelection"].(map[string]any)
			if begin.Status != 200 || pk["challenge"] == "" || pk["rp"].(map[string]any)["id"] != "localhost" ||
				sel["residentKey"] != "required" || (pk["attestation"] != nil && pk["attestation"] != "none") {
				t.Fatalf("POST /mfa/passkeys/begin = %d %s", begin.Status, begin.Raw)
			}
			fin := call(t, h, "POST", "/mfa/passkeys/finish", jsonBody(map[string]any{"name": "Laptop", "credential": key.attest(t, begin.Raw)}), withToken(access))
			if fin.Status != 201 || fin.str("name") != "Laptop" || fin.str("id") == "" || fin.str("created_at") == "" || len(fin.Body) != 3 {
				t.Fatalf("POST /mfa/passkeys/finish = %d %s", fin.Status, fin.Raw)
			}
			st := call(t, h, "GET", "/mfa", "", withToken(access))
			list, _ := st.Body["passkeys"].([]any)
			if st.Status != 200 || len(list) != 1 || list[0].(map[string]any)["id"] != fin.str("id") || list[0].(map[string]any)["last_used_at"] != nil {
				t.Fatalf("GET /mfa = %d %s", st.Status, st.Raw)
			}

			// Passwordless.
			r := passkeySignIn(t, h, key, "")
			pwless, refresh := wantTokens(t, r)
			if amr, acr := amrOf(t, env, pwless); !slices.Equal(amr, []string{"hwk", "user", "mfa"}) || acr != "mfa" {
				t.Fatalf("passwordless amr %v acr %q", amr, acr)
			}
			refreshed, _ := wantTokens(t, call(t, h, "POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh})))
			if amr, acr := amrOf(t, env, refreshed); !slices.Equal(amr, []string{"hwk", "user", "mfa"}) || acr != "mfa" {
				t.Fatalf("refreshed amr %v acr %q", amr, acr)
			}
			st = call(t, h, "GET", "/mfa", "", withToken(access))
			if st.Body["passkeys"].([]any)[0].(map[string]any)["last_used_at"] == nil {
				t.Fatalf("last_used_at not set: %s", st.Raw)
			}

			// Second factor.
			tok, methods := mfaChallengeAPI(t, h, email)
			if !slices.Equal(methods, []string{"passkey"}) {
				t.Fatalf("methods %v", methods)
			}
			second, _ := wantTokens(t, passkeySignIn(t, h, key, tok))
			if amr, acr := amrOf(t, env, second); !slices.Equal(amr, []string{"pwd", "hwk", "mfa"}) || acr != "mfa" {
				t.Fatalf("second-factor amr %v acr %q", amr, acr)
			}
			wantMessage(t, call(t, h, "POST", "/login/passkey/begin", jsonBody(map[string]string{"mfa_token": tok})), 401, provider.ErrMFAExpired.Error())
			wantMessage(t, call(t, h, "POST", "/login/passkey/begin", `{"mfa_token":"unknown"}`), 401, provider.ErrMFAExpired.Error())
		})
	}
}

// TestPasskeyLastFactor (SEC-59): under require_mfa the last passkey
// cannot be removed (409); with TOTP beside it, it can.
func TestPasskeyLastFactor(t *testing.T) {
	env := newOAuthEnv(t, "sqlite+memory", "0")
	h := env.Handler
	id, sec := env.client(t, provider.ClientSpec{Domain: "example.com", Admin: true})
	admin := env.authorityToken(t, id, sec)
	signup(t, h, "ann@corp.example")
	access, _ := login(t, h, "ann@corp.example", testPassword)
	pk := registerPasskey(t, h, access, newSoftKey(t, env.testEnv), "")
	if r := call(t, h, "PUT", "/admin/domains/corp.example", `{"belongs_to":0,"require_mfa":true}`, withToken(admin)); r.Status != 200 {
		t.Fatalf("PUT /admin/domains = %d %s", r.Status, r.Raw)
	}
	del := `{"password":"` + testPassword + `"}`
	wantMessage(t, call(t, h, "DELETE", "/mfa/passkeys/"+pk.str("id"), del, withToken(access)), 409, provider.ErrLastFactor.Error())
	// TOTP as a second factor: now a passkey may go.
	enrolTOTPAPI(t, h, access)
	if r := call(t, h, "DELETE", "/mfa/passkeys/"+pk.str("id"), del, withToken(access)); r.Status != 204 {
		t.Fatalf("DELETE with TOTP left = %d %s", r.Status, r.Raw)
	}
	// and TOTP, the last one now, may not.
	wantMessage(t, call(t, h, "DELETE", "/mfa/totp", del, withToken(access)), 409, provider.ErrLastFactor.Error())
}

// TestPasskeyRemove: DELETE /mfa/passkeys/{id} needs the password, answers
// 404 for an unknown passkey or another user's, and removes: the passkey
// no longer signs in, methods no longer list it, and the recovery codes
// issued with TOTP go when the last factor goes.
func TestPasskeyRemove(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	signup(t, h, "ann@example.com")
	signup(t, h, "bob@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	bob, _ := login(t, h, "bob@example.com", testPassword)
	key := newSoftKey(t, env)
	pk := registerPasskey(t, h, access, key, "Phone")
	path := "/mfa/passkeys/" + pk.str("id")
	del := `{"password":"` + testPassword + `"}`

	wantMessage(t, call(t, h, "DELETE", path, `{"password":"nope nope nope 1"}`, withToken(access)), 401, "Wrong password.")
	wantMessage(t, call(t, h, "DELETE", path, `{}`, withToken(access)), 401, "Wrong password.")
	wantMessage(t, call(t, h, "DELETE", "/mfa/passkeys/unknown", del, withToken(access)), 404, provider.ErrPasskeyNotFound.Error())
	wantMessage(t, call(t, h, "DELETE", path, del, withToken(bob)), 404, provider.ErrPasskeyNotFound.Error())
	wantMessage(t, call(t, h, "DELETE", path, del), 401, "Missing bearer token")

	rc := call(t, h, "POST", "/mfa/recovery-codes", del, withToken(access))
	if rc.Status != 200 {
		t.Fatalf("recovery codes with a passkey as the factor: %d %s", rc.Status, rc.Raw)
	}
	if r := call(t, h, "DELETE", path, del, withToken(access)); r.Status != 204 {
		t.Fatalf("DELETE %s = %d %s", path, r.Status, r.Raw)
	}
	wantMessage(t, call(t, h, "DELETE", path, del, withToken(access)), 404, provider.ErrPasskeyNotFound.Error())
	wantMessage(t, passkeySignIn(t, h, key, ""), 401, provider.ErrPasskeySignIn.Error())
	st := call(t, h, "GET", "/mfa", "", withToken(access))
	if len(st.Body["passkeys"].([]any)) != 0 || st.Body["recovery_codes_left"] != float64(0) {
		t.Fatalf("GET /mfa after removal: %s", st.Raw)
	}
	login(t, h, "ann@example.com", testPassword) // no second factor due
}

// TestPasskeyDisabledUser: a disabled user's passkey signs in neither
// passwordless nor (the password being refused first) as a second factor.
func TestPasskeyDisabledUser(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	id := signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	key := newSoftKey(t, env)
	registerPasskey(t, h, access, key, "")
	tok, _ := mfaChallengeAPI(t, h, "ann@example.com")
	loginID, options := beginPasskeyLogin(t, h, tok)
	if err := env.DB.UpdateUser(context.Background(), id, storage.UserChange{Disabled: new(true)}); err != nil {
		t.Fatal(err)
	}
	wantMessage(t, passkeySignIn(t, h, key, ""), 401, provider.ErrPasskeySignIn.Error())
	wantMessage(t, finishPasskeyLogin(t, h, key, loginID, options), 401, provider.ErrMFAExpired.Error())
	wantMessage(t, call(t, h, "POST", "/login/passkey/begin", jsonBody(map[string]string{"mfa_token": tok})), 401, provider.ErrMFAExpired.Error())
}

// TestPasskeyAudit: adding and removing a passkey are audited
// (passkey_added, passkey_removed), as are a passwordless sign-in and a
// refused one.
func TestPasskeyAudit(t *testing.T) {
	trail := &auditTrail{}
	env := newTestEnv(t, "sqlite+memory", withAudit(trail))
	h := env.Handler
	id := signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	key := newSoftKey(t, env)
	pk := registerPasskey(t, h, access, key, "")
	wantTokens(t, passkeySignIn(t, h, key, ""))
	bad := *key
	bad.rp.Origin = "https://evil.example"
	wantMessage(t, passkeySignIn(t, h, &bad, ""), 401, provider.ErrPasskeySignIn.Error())
	if r := call(t, h, "DELETE", "/mfa/passkeys/"+pk.str("id"), `{"password":"`+testPassword+`"}`, withToken(access)); r.Status != 204 {
		t.Fatalf("DELETE = %d %s", r.Status, r.Raw)
	}
	var got []string
	for _, e := range trail.events(t) {
		if e.UserID == id {
			got = append(got, e.Event+"/"+e.Detail)
		}
	}
	slices.Reverse(got) // oldest first
	for _, want := range []string{"passkey_added/", "login_succeeded/passkey", "login_failed/passkey refused", "passkey_removed/"} {
		if !slices.Contains(got, want) {
			t.Fatalf("audit events %v lack %s", got, want)
		}
	}
}

// TestPasskeyDPoPBound (SEC-63): /login/passkey/finish takes a DPoP proof
// like /login and binds the tokens to its key; a bad proof is refused
// before the ceremony is used.
func TestPasskeyDPoPBound(t *testing.T) {
	e := newOAuthEnv(t, "sqlite+memory", "0")
	h := e.Handler
	signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	key := newSoftKey(t, e.testEnv)
	registerPasskey(t, h, access, key, "")
	s := newProofSigner(t)
	id, options := beginPasskeyLogin(t, h, "")
	body := jsonBody(map[string]any{"login_id": id, "credential": key.assert(t, options)})
	if a := e.post(t, "/login/passkey/finish", body, "application/json", withDPoP("x.y.z")); a.status != 400 {
		t.Fatalf("a bad proof: %d %s", a.status, a.body)
	}
	a := e.post(t, "/login/passkey/finish", body, "application/json", withDPoP(e.proofFor(t, s, "POST", "/login/passkey/finish", "")))
	if a.status != 200 || a.json["token_type"] != "DPoP" {
		t.Fatalf("/login/passkey/finish with a proof: %d %s", a.status, a.body)
	}
	c, err := e.Tokens.VerifyAccess(context.Background(), a.json["access_token"].(string), "")
	if err != nil || c.JKT != s.JKT() || !slices.Equal(c.AMR, []string{"hwk", "user", "mfa"}) {
		t.Fatalf("bound token: jkt %q amr %v %v", c.JKT, c.AMR, err)
	}
	// A bound token sent as Bearer is refused.
	if r := call(t, h, "GET", "/me", "", withToken(a.json["access_token"].(string))); r.Status != 401 {
		t.Fatalf("bound token as Bearer: %d %s", r.Status, r.Raw)
	}
}

// TestPasskeysOff: with an IP-address issuer and no RP ID, passkeys are
// off (SPEC §10): their endpoints answer 404 and methods never list them.
func TestPasskeysOff(t *testing.T) {
	env := newTestEnvRP(t, "sqlite+memory", nil, testRP{})
	h := env.Handler
	if env.Passkeys != nil || env.MFA.PasskeysEnabled() {
		t.Fatal("passkeys on with an IP issuer and no RP ID")
	}
	signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/mfa/passkeys/begin", `{"password":"` + testPassword + `"}`},
		{"POST", "/mfa/passkeys/finish", `{"credential":{}}`},
		{"DELETE", "/mfa/passkeys/x", `{"password":"` + testPassword + `"}`},
		{"POST", "/login/passkey/begin", `{}`},
		{"POST", "/login/passkey/finish", `{"login_id":"x","credential":{}}`},
	} {
		wantMessage(t, call(t, h, r.method, r.path, r.body, withToken(access)), 404, "Not found")
	}
	enrolTOTPAPI(t, h, access)
	if _, methods := mfaChallengeAPI(t, h, "ann@example.com"); slices.Contains(methods, "passkey") {
		t.Fatalf("methods %v", methods)
	}
	if _, _, off := provider.PasskeyRPID("http://127.0.0.1:8080", "", nil); off == "" {
		t.Fatal("PasskeyRPID: on for an IP issuer")
	}
	if id, origins, off := provider.PasskeyRPID("https://id.example.com/", "", nil); off != "" || id != "id.example.com" || !slices.Equal(origins, []string{"https://id.example.com"}) {
		t.Fatalf("PasskeyRPID defaults: %q %v %q", id, origins, off)
	}
}
