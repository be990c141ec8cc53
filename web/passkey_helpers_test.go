package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"user-registry/provider/passkeytest"

	"github.com/descope/virtualwebauthn"
)

// softKey is a software authenticator holding one credential
// (github.com/descope/virtualwebauthn), for the API tests: it answers the
// options our endpoints send with the JSON a browser would post.
type softKey struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
	// counting makes every assertion report a sign count one higher than
	// the last; without it the count stays 0, as many platform
	// authenticators do.
	counting bool
}

// newSoftKey makes an authenticator for env's RP (ID "localhost", origin
// the issuer's), user-verifying unless told otherwise by the caller.
func newSoftKey(t testing.TB, env *testEnv) *softKey {
	t.Helper()
	return &softKey{
		rp:       virtualwebauthn.RelyingParty{ID: "localhost", Name: "registry.test", Origin: originOf(t, env.Config.Issuer)},
		auth:     virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{BackupEligible: true}),
		cred:     passkeytest.Credential(t),
		counting: true,
	}
}

func originOf(t testing.TB, issuer string) string {
	t.Helper()
	u, err := url.Parse(issuer)
	if err != nil {
		t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host
}

// attest answers creation options (the body of /mfa/passkeys/begin) with
// a RegistrationResponseJSON, and remembers the user handle for
// passwordless assertions.
func (k *softKey) attest(t testing.TB, options string) json.RawMessage {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(options)
	if err != nil {
		t.Fatalf("creation options %s: %v", options, err)
	}
	k.auth.Options.UserHandle = []byte(opts.UserID)
	return json.RawMessage(virtualwebauthn.CreateAttestationResponse(k.rp, k.auth, k.cred, *opts))
}

// assert answers request options (the publicKey of /login/passkey/begin)
// with an AuthenticationResponseJSON.
func (k *softKey) assert(t testing.TB, options string) json.RawMessage {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(options)
	if err != nil {
		t.Fatalf("request options %s: %v", options, err)
	}
	if k.counting {
		k.cred.Counter++
	}
	return json.RawMessage(virtualwebauthn.CreateAssertionResponse(k.rp, k.auth, k.cred, *opts))
}

// registerPasskey adds k to the user of access through the JSON API and
// returns the 201 body.
func registerPasskey(t testing.TB, h http.Handler, access string, k *softKey, name string) apiResp {
	t.Helper()
	begin := call(t, h, "POST", "/mfa/passkeys/begin", `{"password":"`+testPassword+`"}`, withToken(access))
	if begin.Status != http.StatusOK || begin.Body["publicKey"] == nil {
		t.Fatalf("POST /mfa/passkeys/begin = %d %s", begin.Status, begin.Raw)
	}
	fin := call(t, h, "POST", "/mfa/passkeys/finish", jsonBody(map[string]any{"name": name, "credential": k.attest(t, begin.Raw)}), withToken(access))
	if fin.Status != http.StatusCreated || fin.str("id") == "" || fin.str("name") == "" || fin.str("created_at") == "" {
		t.Fatalf("POST /mfa/passkeys/finish = %d %s", fin.Status, fin.Raw)
	}
	return fin
}

// beginPasskeyLogin starts a passkey sign-in (mfaToken "" is passwordless)
// and returns the login_id and the raw begin body.
func beginPasskeyLogin(t testing.TB, h http.Handler, mfaToken string) (string, string) {
	t.Helper()
	body := "{}"
	if mfaToken != "" {
		body = jsonBody(map[string]string{"mfa_token": mfaToken})
	}
	r := call(t, h, "POST", "/login/passkey/begin", body)
	if r.Status != http.StatusOK || r.str("login_id") == "" || r.Body["publicKey"] == nil {
		t.Fatalf("POST /login/passkey/begin = %d %s", r.Status, r.Raw)
	}
	return r.str("login_id"), r.Raw
}

// finishPasskeyLogin posts k's answer to the options of a begun sign-in.
func finishPasskeyLogin(t testing.TB, h http.Handler, k *softKey, loginID, options string, opts ...reqOpt) apiResp {
	t.Helper()
	return call(t, h, "POST", "/login/passkey/finish", jsonBody(map[string]any{"login_id": loginID, "credential": k.assert(t, options)}), opts...)
}

// passkeySignIn is a passwordless sign-in with k, or the second factor
// for mfaToken; it returns the answer of finish.
func passkeySignIn(t testing.TB, h http.Handler, k *softKey, mfaToken string, opts ...reqOpt) apiResp {
	t.Helper()
	id, options := beginPasskeyLogin(t, h, mfaToken)
	return finishPasskeyLogin(t, h, k, id, options, opts...)
}
