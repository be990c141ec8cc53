package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/provider/passkeytest"
	"user-registry/storage"
)

// The WebAuthn checks of SEC-58, through the JSON API with a software
// authenticator (passkey_helpers_test.go).

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
			forged.cred = passkeytest.Credential(t)
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
