package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"user-registry/provider/passkeytest"
	"user-registry/storage/sqlstore/sqltest"
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
	return &softPasskey{
		rp:   virtualwebauthn.RelyingParty{ID: rpID, Name: rpID, Origin: origin},
		auth: virtualwebauthn.NewAuthenticator(),
		cred: passkeytest.Credential(t),
	}
}

// register adds k to the user of access: begun on the node at base,
// finished on the one at finishBase.
func (k *softPasskey) register(t *testing.T, base, finishBase, access, password string) string {
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
	code, fin := call(t, "POST", finishBase+"/mfa/passkeys/finish", `{"credential":`+resp+`}`, access)
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
	key.register(t, on.base, on.base, access, pw)
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

// TestPasskeyTwoNodes runs passkeys on two `serve` processes over one
// MySQL and one Redis (SPEC §10, SEC-58): a registration begun on A is
// finished on B, a passwordless sign-in begun on B is finished on A, an
// mfa_token's passkey step begun on A is finished on B, and one response
// sent to both nodes at once signs in once (the ceremony is taken once
// across nodes). `users mfa-reset` removes the passkey.
func TestPasskeyTwoNodes(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	secret := keySecretArg()
	// The issuer's host is a domain: the RP ID and origin default to it,
	// whatever address each node listens on.
	args := []string{"--db", db, "--redis", redisURL, secret, "--issuer", "http://registry.test", "--limit-ip", "0"}
	a, b := startServer(t, nil, args...), startServer(t, nil, args...)
	const pw = "S3cure-horse-battery"
	email := "pk-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.com"
	creds := `{"email":"` + email + `","password":"` + pw + `"}`
	if code, body := call(t, "POST", a.base+"/signup", creds, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	_, tok := call(t, "POST", a.base+"/login", creds, "")
	access, _ := tok["access_token"].(string)
	key := newSoftPasskey(t, "registry.test", "http://registry.test")
	key.register(t, a.base, b.base, access, pw)

	id, resp := key.begin(t, b.base, "")
	if code, body := finishPasskey(t, a.base, id, resp); code != 200 || body["access_token"] == nil {
		t.Fatalf("passwordless begun on B, finished on A: %d %v", code, body)
	}

	code, need := call(t, "POST", a.base+"/login", creds, "")
	methods, _ := need["methods"].([]any)
	mfaToken, _ := need["mfa_token"].(string)
	if code != 401 || !slices.Contains(methods, any("passkey")) {
		t.Fatalf("POST /login: %d %v", code, need)
	}
	id, resp = key.begin(t, a.base, mfaToken)
	if code, body := finishPasskey(t, b.base, id, resp); code != 200 || body["access_token"] == nil {
		t.Fatalf("second factor begun on A, finished on B: %d %v", code, body)
	}
	if code, body := finishPasskey(t, a.base, id, resp); code != 401 {
		t.Fatalf("the same response again on A: %d %v", code, body)
	}

	// One response, both nodes at once: one sign-in.
	id, resp = key.begin(t, a.base, "")
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			code, body := finishPasskey(t, []string{a.base, b.base}[i%2], id, resp)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case code == 200:
				wins++
			case code != 401:
				t.Errorf("concurrent finish: %d %v", code, body)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("one response on two nodes: %d sign-ins, want 1", wins)
	}

	out, errOut, rc := cli(t, nil, "users", "show", email, "--json", "--db", db, "--redis", redisURL, secret)
	if rc != 0 || !strings.Contains(out, `"passkeys":1`) {
		t.Fatalf("users show: %d %s %s", rc, out, errOut)
	}
	if _, errOut, rc := cli(t, nil, "users", "mfa-reset", email, "--db", db, "--redis", redisURL, secret); rc != 0 {
		t.Fatalf("users mfa-reset: %s", errOut)
	}
	if code, body := call(t, "POST", b.base+"/login", creds, ""); code != 200 {
		t.Fatalf("login after mfa-reset: %d %v", code, body)
	}
}
