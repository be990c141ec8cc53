package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

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

// TestPasskeyRefusals (SEC-58): responses a relying party must refuse,
// each answered 400 or 401 with a JSON message, never 500: a response made
// for another origin or RP ID, a replayed one (the ceremony is single
// use), a sign count that went backwards or stood still, a passwordless
// sign-in without user verification, and a bad signature.
func TestPasskeyRefusals(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	signIn := provider.ErrPasskeySignIn.Error()
	cases := []struct {
		name string
		// run does the refused step for a user (access token) with key
		// registered and returns its answer.
		run    func(t *testing.T, key *softKey, access string) apiResp
		status int
		msg    string
	}{
		{"sign-in for another origin", func(t *testing.T, key *softKey, _ string) apiResp {
			key.rp.Origin = "https://evil.example"
			return passkeySignIn(t, h, key, "")
		}, 401, signIn},
		{"sign-in for another RP ID", func(t *testing.T, key *softKey, _ string) apiResp {
			key.rp.ID = "evil.example"
			return passkeySignIn(t, h, key, "")
		}, 401, signIn},
		{"registration for another origin", func(t *testing.T, _ *softKey, access string) apiResp {
			other := newSoftKey(t, env)
			other.rp.Origin = "https://evil.example"
			begin := call(t, h, "POST", "/mfa/passkeys/begin", `{"password":"`+testPassword+`"}`, withToken(access))
			return call(t, h, "POST", "/mfa/passkeys/finish", jsonBody(map[string]any{"credential": other.attest(t, begin.Raw)}), withToken(access))
		}, 400, provider.ErrPasskeyInvalid.Error()},
		{"registration for another RP ID", func(t *testing.T, _ *softKey, access string) apiResp {
			other := newSoftKey(t, env)
			other.rp.ID = "evil.example"
			begin := call(t, h, "POST", "/mfa/passkeys/begin", `{"password":"`+testPassword+`"}`, withToken(access))
			return call(t, h, "POST", "/mfa/passkeys/finish", jsonBody(map[string]any{"credential": other.attest(t, begin.Raw)}), withToken(access))
		}, 400, provider.ErrPasskeyInvalid.Error()},
		{"sign-in finished twice", func(t *testing.T, key *softKey, _ string) apiResp {
			id, options := beginPasskeyLogin(t, h, "")
			resp := key.assert(t, options)
			body := jsonBody(map[string]any{"login_id": id, "credential": resp})
			wantTokens(t, call(t, h, "POST", "/login/passkey/finish", body))
			return call(t, h, "POST", "/login/passkey/finish", body)
		}, 401, signIn},
		{"sign-in response replayed on a new ceremony", func(t *testing.T, key *softKey, _ string) apiResp {
			id, options := beginPasskeyLogin(t, h, "")
			resp := key.assert(t, options)
			wantTokens(t, call(t, h, "POST", "/login/passkey/finish", jsonBody(map[string]any{"login_id": id, "credential": resp})))
			id2, _ := beginPasskeyLogin(t, h, "")
			return call(t, h, "POST", "/login/passkey/finish", jsonBody(map[string]any{"login_id": id2, "credential": resp}))
		}, 401, signIn},
		{"registration finished twice", func(t *testing.T, _ *softKey, access string) apiResp {
			other := newSoftKey(t, env)
			begin := call(t, h, "POST", "/mfa/passkeys/begin", `{"password":"`+testPassword+`"}`, withToken(access))
			body := jsonBody(map[string]any{"credential": other.attest(t, begin.Raw)})
			if r := call(t, h, "POST", "/mfa/passkeys/finish", body, withToken(access)); r.Status != 201 {
				t.Fatalf("first finish = %d %s", r.Status, r.Raw)
			}
			return call(t, h, "POST", "/mfa/passkeys/finish", body, withToken(access))
		}, 400, provider.ErrPasskeyInvalid.Error()},
		{"sign count backwards", func(t *testing.T, key *softKey, _ string) apiResp {
			key.cred.Counter = 10
			wantTokens(t, passkeySignIn(t, h, key, "")) // reports 11
			key.cred.Counter = 5
			return passkeySignIn(t, h, key, "") // reports 6
		}, 401, signIn},
		{"sign count standing still", func(t *testing.T, key *softKey, _ string) apiResp {
			wantTokens(t, passkeySignIn(t, h, key, "")) // reports 1
			key.counting = false
			return passkeySignIn(t, h, key, "") // reports 1 again
		}, 401, signIn},
		{"passwordless without user verification", func(t *testing.T, key *softKey, _ string) apiResp {
			key.auth.Options.UserNotVerified = true
			return passkeySignIn(t, h, key, "")
		}, 401, signIn},
		{"signed by another key", func(t *testing.T, key *softKey, _ string) apiResp {
			forged := *key
			forged.cred = newSoftCredential(t)
			forged.cred.ID = key.cred.ID
			return passkeySignIn(t, h, &forged, "")
		}, 401, signIn},
		{"unknown login_id", func(t *testing.T, key *softKey, _ string) apiResp {
			_, options := beginPasskeyLogin(t, h, "")
			return finishPasskeyLogin(t, h, key, "not-a-login-id", options)
		}, 401, signIn},
		{"no credential", func(t *testing.T, _ *softKey, _ string) apiResp {
			id, _ := beginPasskeyLogin(t, h, "")
			return call(t, h, "POST", "/login/passkey/finish", jsonBody(map[string]any{"login_id": id, "credential": map[string]any{"id": "x"}}))
		}, 401, signIn},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := fmt.Sprintf("user%d@example.com", i)
			signup(t, h, email)
			access, _ := login(t, h, email, testPassword)
			key := newSoftKey(t, env)
			registerPasskey(t, h, access, key, "")
			wantMessage(t, tc.run(t, key, access), tc.status, tc.msg)
		})
	}
}

// TestPasskeyCountingZero: an authenticator that always reports 0 keeps
// signing in (SPEC §10).
func TestPasskeyCountingZero(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	key := newSoftKey(t, env)
	key.counting = false
	registerPasskey(t, h, access, key, "")
	for range 3 {
		wantTokens(t, passkeySignIn(t, h, key, ""))
	}
}

// TestPasskeyOtherUsersSecondFactor (SEC-58): a credential of user A
// cannot complete user B's second factor, whatever user handle it sends;
// the refusal counts against B's mfa_token, which still works with B's own
// passkey.
func TestPasskeyOtherUsersSecondFactor(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	keys := map[string]*softKey{}
	for _, email := range []string{"a@example.com", "b@example.com"} {
		signup(t, h, email)
		access, _ := login(t, h, email, testPassword)
		keys[email] = newSoftKey(t, env)
		registerPasskey(t, h, access, keys[email], "")
	}
	tok, _ := mfaChallengeAPI(t, h, "b@example.com")
	id, options := beginPasskeyLogin(t, h, tok)
	wantMessage(t, finishPasskeyLogin(t, h, keys["a@example.com"], id, options), 401, provider.ErrPasskeySignIn.Error())
	// A's key claiming to be B.
	forged := *keys["a@example.com"]
	forged.auth.Options.UserHandle = keys["b@example.com"].auth.Options.UserHandle
	id, options = beginPasskeyLogin(t, h, tok)
	wantMessage(t, finishPasskeyLogin(t, h, &forged, id, options), 401, provider.ErrPasskeySignIn.Error())
	// Passwordless, A's key with B's user handle is refused as well.
	wantMessage(t, passkeySignIn(t, h, &forged, ""), 401, provider.ErrPasskeySignIn.Error())

	access, _ := wantTokens(t, passkeySignIn(t, h, keys["b@example.com"], tok))
	c, err := env.Tokens.VerifyAccess(context.Background(), access, "")
	if err != nil || c.Email != "b@example.com" {
		t.Fatalf("token of %q, %v", c.Email, err)
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

// TestPasskeyBackupFlags (SEC-58): the backup flags are stored at
// registration, the backup state follows every sign-in (a passkey synced
// later keeps working), and a change of backup eligibility is refused.
func TestPasskeyBackupFlags(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	id := signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	key := newSoftKey(t, env) // backup eligible, not backed up
	registerPasskey(t, h, access, key, "")
	stored := func() storage.Passkey {
		t.Helper()
		ps, err := env.Passkeys.Store.Passkeys(context.Background(), id)
		if err != nil || len(ps) != 1 {
			t.Fatalf("passkeys %v %v", ps, err)
		}
		return ps[0]
	}
	if p := stored(); !p.BackupEligible || p.BackupState {
		t.Fatalf("after registration BE %t BS %t", p.BackupEligible, p.BackupState)
	}
	key.auth.Options.BackupState = true // synced since
	wantTokens(t, passkeySignIn(t, h, key, ""))
	if p := stored(); !p.BackupEligible || !p.BackupState || p.SignCount != 1 || p.LastUsedAt == nil {
		t.Fatalf("after a synced sign-in %+v", p)
	}
	var cred map[string]any
	if err := json.Unmarshal(stored().Credential, &cred); err != nil {
		t.Fatalf("stored credential is not the library's JSON: %v", err)
	}
	key.auth.Options.BackupState = false
	wantTokens(t, passkeySignIn(t, h, key, ""))
	if p := stored(); p.BackupState || p.SignCount != 2 {
		t.Fatalf("after an unsynced sign-in %+v", p)
	}
	key.auth.Options.BackupEligible = false
	wantMessage(t, passkeySignIn(t, h, key, ""), 401, provider.ErrPasskeySignIn.Error())
}

// TestPasskeyCeremonyExpiry (SEC-58): a ceremony lives 5 minutes; a
// response after that is refused, on our clock whatever the store's.
func TestPasskeyCeremonyExpiry(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	h := env.Handler
	id := signup(t, h, "ann@example.com")
	access, _ := login(t, h, "ann@example.com", testPassword)
	key := newSoftKey(t, env)
	registerPasskey(t, h, access, key, "")
	ctx := context.Background()
	for _, tc := range []struct {
		ahead time.Duration
		ok    bool
	}{{4 * time.Minute, true}, {provider.PasskeyCeremonyTTL + time.Second, false}} {
		deps := env.PasskeyDeps
		deps.Now = func() time.Time { return time.Now().Add(tc.ahead) }
		later, err := provider.NewPasskeys(deps)
		if err != nil {
			t.Fatal(err)
		}
		loginID, options := beginPasskeyLogin(t, h, "")
		_, _, err = later.SignIn(ctx, loginID, key.assert(t, options))
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, provider.ErrPasskeySignIn) {
			t.Fatalf("sign-in %v later: %v", tc.ahead, err)
		}
		begin := call(t, h, "POST", "/mfa/passkeys/begin", `{"password":"`+testPassword+`"}`, withToken(access))
		_, err = later.FinishRegistration(ctx, id, "", newSoftKey(t, env).attest(t, begin.Raw))
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, provider.ErrPasskeyInvalid) {
			t.Fatalf("registration %v later: %v", tc.ahead, err)
		}
	}
}
