package provider_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/descope/virtualwebauthn"

	"user-registry/provider"
	"user-registry/provider/passkeytest"
	"user-registry/storage"
)

// pkEnv is an mfaEnv whose MFA knows passkeys, with the passkey service
// over the same memstore and fake clock.
type pkEnv struct {
	*mfaEnv
	pk *provider.Passkeys
}

func newPKEnv(t testing.TB, opts ...envOpt) *pkEnv {
	t.Helper()
	e := newMFAEnv(t, opts...)
	m, err := provider.NewMFA(provider.MFADeps{
		Accounts: e.acc, Store: e.store, Challenges: e.store, Secret: e.secret, Issuer: "registry.test",
		Mail: e.mail, Audit: e.audit, Now: e.clk.Now, Passkeys: provider.PasskeyRecords{Store: e.store},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mfa = m
	p, err := provider.NewPasskeys(provider.PasskeysDeps{
		Accounts: e.acc, MFA: m, Store: e.store, Challenges: e.store, RPID: "registry.test",
		Origins: []string{"https://registry.test"}, Audit: e.audit, Now: e.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &pkEnv{e, p}
}

// softKey is a software authenticator for registry.test.
type softKey struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newSoftKey(t testing.TB) *softKey {
	t.Helper()
	return &softKey{
		rp:   virtualwebauthn.RelyingParty{ID: "registry.test", Name: "registry.test", Origin: "https://registry.test"},
		auth: virtualwebauthn.NewAuthenticator(),
		cred: passkeytest.Credential(t),
	}
}

// register adds k to userID through the provider.
func (e *pkEnv) register(t testing.TB, k *softKey, userID string) provider.PasskeyInfo {
	t.Helper()
	ctx := t.Context()
	creation, err := e.pk.BeginRegistration(ctx, userID, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(creation)
	opts, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	k.auth.Options.UserHandle = []byte(opts.UserID)
	info, err := e.pk.FinishRegistration(ctx, userID, "", []byte(virtualwebauthn.CreateAttestationResponse(k.rp, k.auth, k.cred, *opts)))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// answer begins a sign-in (mfaToken "" is passwordless) and returns its
// login_id and k's response.
func (e *pkEnv) answer(t testing.TB, k *softKey, mfaToken string) (string, []byte) {
	t.Helper()
	l, err := e.pk.BeginLogin(t.Context(), mfaToken)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"publicKey": l.Options})
	opts, err := virtualwebauthn.ParseAssertionOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	k.cred.Counter++
	return l.LoginID, []byte(virtualwebauthn.CreateAssertionResponse(k.rp, k.auth, k.cred, *opts))
}

// TestPasskeyNotices: adding and removing a passkey mails the user and
// records passkey_added and passkey_removed; the default name is
// "Passkey"; a name over 64 characters is refused before the ceremony is
// used.
func TestPasskeyNotices(t *testing.T) {
	e := newPKEnv(t)
	ctx := t.Context()
	u := e.signup(t, "ann@example.com", testPassword)
	if _, err := e.pk.FinishRegistration(ctx, u.ID, string(make([]byte, 65)), []byte(`{}`)); !errors.Is(err, provider.ErrInvalidInput) {
		t.Fatalf("a long name: %v", err)
	}
	info := e.register(t, newSoftKey(t), u.ID)
	if info.Name != "Passkey" || !info.CreatedAt.Equal(e.clk.Now().UTC()) {
		t.Fatalf("registered %+v", info)
	}
	if err := e.pk.Remove(ctx, u.ID, "wrong-password-0", info.ID); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("Remove with a wrong password: %v", err)
	}
	if err := e.pk.Remove(ctx, u.ID, testPassword, info.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.mail.subjects(); !slices.Equal(got, []string{"A second factor was added", "A second factor was removed"}) {
		t.Errorf("mails %q", got)
	}
	var events []string
	for _, ev := range e.audit.list() {
		if ev.UserID == u.ID {
			events = append(events, ev.Event)
		}
	}
	if !slices.Contains(events, provider.EventPasskeyAdded) || !slices.Contains(events, provider.EventPasskeyRemoved) {
		t.Errorf("audit events %v", events)
	}
}

// TestPasskeyRefusalsKillMFAToken (SEC-59): a refused passkey counts
// against the mfa_token like a wrong code; the fifth kills it.
func TestPasskeyRefusalsKillMFAToken(t *testing.T) {
	e := newPKEnv(t)
	ctx := t.Context()
	u := e.signup(t, "ann@example.com", testPassword)
	key := newSoftKey(t)
	e.register(t, key, u.ID)
	need := e.challenge(t, "ann@example.com")
	if !slices.Equal(need.Methods, []string{"passkey"}) {
		t.Fatalf("methods %v", need.Methods)
	}
	bad := *key
	bad.rp.Origin = "https://evil.example"
	for i := range provider.MFAMaxFailures {
		id, resp := e.answer(t, &bad, need.Token)
		if _, _, err := e.pk.SignIn(ctx, id, resp); !errors.Is(err, provider.ErrPasskeySignIn) {
			t.Fatalf("refusal %d: %v", i+1, err)
		}
	}
	if _, err := e.pk.BeginLogin(ctx, need.Token); !errors.Is(err, provider.ErrMFAExpired) {
		t.Fatalf("after 5 refusals: %v", err)
	}
	need = e.challenge(t, "ann@example.com")
	id, resp := e.answer(t, key, need.Token)
	if _, amr, err := e.pk.SignIn(ctx, id, resp); err != nil || !slices.Equal(amr, []string{"pwd", "hwk", "mfa"}) {
		t.Fatalf("the right passkey: %v %v", amr, err)
	}
}

// TestPasskeyUnverifiedUser: with --require-verified-email a passkey signs
// in a verified user only, as the password does.
func TestPasskeyUnverifiedUser(t *testing.T) {
	e := newPKEnv(t, func(c *provider.AccountsConfig) { c.RequireVerified = true; c.ActivateAtSignup = false })
	ctx := t.Context()
	u := e.signup(t, "ann@example.com", testPassword)
	key := newSoftKey(t)
	e.register(t, key, u.ID)
	id, resp := e.answer(t, key, "")
	if _, _, err := e.pk.SignIn(ctx, id, resp); !errors.Is(err, provider.ErrPasskeySignIn) {
		t.Fatalf("unverified: %v", err)
	}
	if err := e.store.UpdateUser(ctx, u.ID, storage.UserChange{IsActivated: new(true)}); err != nil {
		t.Fatal(err)
	}
	id, resp = e.answer(t, key, "")
	if got, amr, err := e.pk.SignIn(ctx, id, resp); err != nil || got.ID != u.ID || !slices.Equal(amr, []string{"hwk", "user", "mfa"}) {
		t.Fatalf("verified: %v %v %v", got.ID, amr, err)
	}
}

// FuzzPasskeySignIn: whatever the browser's response, a passwordless
// sign-in either succeeds or is refused with ErrPasskeySignIn; the
// library's parser never panics through us nor leaks another error.
func FuzzPasskeySignIn(f *testing.F) {
	e := newPKEnv(f)
	u := e.signup(f, "ann@example.com", testPassword)
	key := newSoftKey(f)
	e.register(f, key, u.ID)
	_, valid := e.answer(f, key, "")
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"","rawId":"","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`))
	f.Fuzz(func(t *testing.T, resp []byte) {
		l, err := e.pk.BeginLogin(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.pk.SignIn(t.Context(), l.LoginID, resp); err != nil && !errors.Is(err, provider.ErrPasskeySignIn) {
			t.Fatalf("SignIn(%q): %v", resp, err)
		}
	})
}
