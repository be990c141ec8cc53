package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"
)

// softPasskey is a software authenticator (descope/virtualwebauthn) for
// the passkey tests of the built binary.
type softPasskey struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newSoftPasskey(t *testing.T, rpID, origin string) *softPasskey {
	t.Helper()
	// virtualwebauthn writes the key's coordinates with big.Int.Bytes,
	// which drops leading zero bytes (about one key in 128); such a key is
	// drawn again rather than letting the test flake.
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(k.X.Bytes()) != 32 || len(k.Y.Bytes()) != 32 { //nolint:staticcheck // the encoding virtualwebauthn uses
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return &softPasskey{
			rp:   virtualwebauthn.RelyingParty{ID: rpID, Name: rpID, Origin: origin},
			auth: virtualwebauthn.NewAuthenticator(),
			cred: virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der),
		}
	}
}

// register adds k to the user of access on the node at base.
func (k *softPasskey) register(t *testing.T, base, access, password string) string {
	t.Helper()
	code, begin := call(t, "POST", base+"/mfa/passkeys/begin", `{"password":"`+password+`"}`, access)
	if code != 200 {
		t.Fatalf("POST /mfa/passkeys/begin: %d %v", code, begin)
	}
	raw, _ := json.Marshal(begin)
	opts, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	k.auth.Options.UserHandle = []byte(opts.UserID)
	resp := virtualwebauthn.CreateAttestationResponse(k.rp, k.auth, k.cred, *opts)
	code, fin := call(t, "POST", base+"/mfa/passkeys/finish", `{"credential":`+resp+`}`, access)
	if code != 201 {
		t.Fatalf("POST /mfa/passkeys/finish: %d %v", code, fin)
	}
	id, _ := fin["id"].(string)
	return id
}

// begin starts a sign-in on the node at base (mfaToken "" is
// passwordless) and returns the login_id and k's answer to it.
func (k *softPasskey) begin(t *testing.T, base, mfaToken string) (string, string) {
	t.Helper()
	body := `{}`
	if mfaToken != "" {
		body = `{"mfa_token":"` + mfaToken + `"}`
	}
	code, begun := call(t, "POST", base+"/login/passkey/begin", body, "")
	if code != 200 {
		t.Fatalf("POST /login/passkey/begin: %d %v", code, begun)
	}
	raw, _ := json.Marshal(begun)
	opts, err := virtualwebauthn.ParseAssertionOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	k.cred.Counter++
	id, _ := begun["login_id"].(string)
	return id, virtualwebauthn.CreateAssertionResponse(k.rp, k.auth, k.cred, *opts)
}

// finish posts a begun sign-in's answer to the node at base.
func finishPasskey(t *testing.T, base, loginID, resp string) (int, map[string]any) {
	t.Helper()
	return call(t, "POST", base+"/login/passkey/finish", `{"login_id":"`+loginID+`","credential":`+resp+`}`, "")
}

// TestPasskeysServe runs passkeys on the built binary (SPEC §10): with the
// default IP-address issuer and no --webauthn-rp-id they are off (404,
// logged); with --webauthn-rp-id the origin defaults to the issuer's, a
// passkey signs in passwordless, and `users mfa-reset` removes it.
func TestPasskeysServe(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	off := startServer(t, nil, "--db", db)
	if code, body := call(t, "POST", off.base+"/login/passkey/begin", `{}`, ""); code != 404 {
		t.Fatalf("passkeys off: POST /login/passkey/begin = %d %v", code, body)
	}
	if logs := off.logs.String(); !strings.Contains(logs, "passkeys off") || !strings.Contains(logs, "--webauthn-rp-id") {
		t.Fatalf("serve does not say why passkeys are off:\n%s", logs)
	}
	off.stop()

	on := startServer(t, nil, "--db", db, "--webauthn-rp-id", "localhost")
	if logs := on.logs.String(); !strings.Contains(logs, "passkeys on") {
		t.Fatalf("serve does not log passkeys on:\n%s", logs)
	}
	const email, pw = "ann@example.com", "S3cure-horse-battery"
	creds := `{"email":"` + email + `","password":"` + pw + `"}`
	if code, body := call(t, "POST", on.base+"/signup", creds, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	_, tok := call(t, "POST", on.base+"/login", creds, "")
	access, _ := tok["access_token"].(string)
	key := newSoftPasskey(t, "localhost", on.base) // the default origin: the issuer's, http://<addr>
	key.register(t, on.base, access, pw)
	id, resp := key.begin(t, on.base, "")
	if code, body := finishPasskey(t, on.base, id, resp); code != 200 || body["access_token"] == nil {
		t.Fatalf("passwordless: %d %v", code, body)
	}
	if code, body := call(t, "POST", on.base+"/login", creds, ""); code != 401 || body["mfa_token"] == nil {
		t.Fatalf("login with a passkey: %d %v", code, body)
	}

	if _, errOut, rc := cli(t, nil, "users", "mfa-reset", email, "--db", db); rc != 0 {
		t.Fatalf("users mfa-reset: %s", errOut)
	}
	if code, body := call(t, "POST", on.base+"/login", creds, ""); code != 200 {
		t.Fatalf("login after mfa-reset: %d %v", code, body)
	}
	_, st := call(t, "GET", on.base+"/mfa", "", access)
	if list, _ := st["passkeys"].([]any); len(list) != 0 {
		t.Fatalf("passkeys after mfa-reset: %v", st)
	}
	id, resp = key.begin(t, on.base, "")
	if code, body := finishPasskey(t, on.base, id, resp); code != 401 {
		t.Fatalf("a removed passkey signed in: %d %v", code, body)
	}
}
