package main

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"user-registry/storage/sqlstore/sqltest"
)

// totpAt is the code an authenticator app shows for secret at t.
func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMFATwoNodes runs second factors on two `serve` processes over one
// MySQL and one Redis (SPEC §10, SEC-55, SEC-59): an enrolment made on A
// has its code refused at sign-in on B; an mfa_token from B is finished
// on A; one code sent to both nodes at once signs in once; `domains allow
// --require-mfa` reaches both nodes' /login; `users mfa-reset` removes the
// factor.
func TestMFATwoNodes(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	secret := keySecretArg()
	// No per-IP limit: the polls below would exhaust it.
	args := []string{"--db", db, "--redis", redisURL, secret, "--issuer", "http://registry.test", "--limit-ip", "0"}
	a, b := startServer(t, nil, args...), startServer(t, nil, args...)
	const pw = "S3cure-horse-battery"
	// Fresh addresses: the per-account login counters live in Redis,
	// which outlives a test run, and this test spends some of them.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	ann, bob, cy := "ann-"+run+"@example.com", "bob-"+run+"@example.com", "cy-"+run+"@corp.example"
	creds := func(email string) string { return `{"email":"` + email + `","password":"` + pw + `"}` }

	// enrol signs up email on A and enables TOTP there; it returns the
	// secret and the step time of the enrolment code.
	enrol := func(email string) (string, time.Time) {
		t.Helper()
		if code, body := call(t, "POST", a.base+"/signup", creds(email), ""); code != 201 {
			t.Fatalf("signup: %d %v", code, body)
		}
		_, tok := call(t, "POST", a.base+"/login", creds(email), "")
		access, _ := tok["access_token"].(string)
		code, start := call(t, "POST", a.base+"/mfa/totp", `{"password":"`+pw+`"}`, access)
		if code != 200 {
			t.Fatalf("POST /mfa/totp: %d %v", code, start)
		}
		s := start["secret"].(string)
		now := time.Now()
		if code, body := call(t, "POST", a.base+"/mfa/totp/confirm", `{"code":"`+totpAt(t, s, now)+`"}`, access); code != 200 {
			t.Fatalf("confirm: %d %v", code, body)
		}
		return s, now
	}
	challenge := func(base, email string) string {
		t.Helper()
		code, body := call(t, "POST", base+"/login", creds(email), "")
		tok, _ := body["mfa_token"].(string)
		if code != 401 || tok == "" {
			t.Fatalf("POST /login: %d %v, want the second-factor 401", code, body)
		}
		return tok
	}
	second := func(base, tok, code string) (int, map[string]any) {
		return call(t, "POST", base+"/login/mfa", `{"mfa_token":"`+tok+`","code":"`+code+`"}`, "")
	}

	s, enrolled := enrol(ann)
	tok := challenge(b.base, ann)
	if code, body := second(b.base, tok, totpAt(t, s, enrolled)); code != 401 || body["message"] != "Wrong code." {
		t.Fatalf("the enrolment code on B: %d %v", code, body)
	}
	if code, body := second(a.base, tok, totpAt(t, s, enrolled.Add(30*time.Second))); code != 200 || body["access_token"] == nil {
		t.Fatalf("B's mfa_token finished on A: %d %v", code, body)
	}

	// One code, several challenges on both nodes at once: one sign-in.
	s2, enrolled2 := enrol(bob)
	var toks []string
	for i := range 6 {
		toks = append(toks, challenge([]string{a.base, b.base}[i%2], bob))
	}
	c := totpAt(t, s2, enrolled2.Add(30*time.Second))
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	for i, tk := range toks {
		wg.Go(func() {
			code, body := second([]string{a.base, b.base}[i%2], tk, c)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case code == 200:
				wins++
			case code != 401:
				t.Errorf("concurrent /login/mfa: %d %v", code, body)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("one code on 6 challenges over two nodes: %d sign-ins, want 1", wins)
	}

	// An operator's reset: the password alone signs in again.
	out, errOut, rc := cli(t, nil, "users", "show", ann, "--json", "--db", db, "--redis", redisURL, secret)
	if rc != 0 || !strings.Contains(out, `"mfa":{"totp":true,"passkeys":0}`) {
		t.Fatalf("users show: %d %s %s", rc, out, errOut)
	}
	if _, errOut, rc := cli(t, nil, "users", "mfa-reset", ann, "--db", db, "--redis", redisURL, secret); rc != 0 {
		t.Fatalf("users mfa-reset: %s", errOut)
	}
	if code, body := call(t, "POST", b.base+"/login", creds(ann), ""); code != 200 {
		t.Fatalf("login after mfa-reset: %d %v", code, body)
	}

	// The CLI's require_mfa reaches both nodes within the 5 s bound.
	if code, _ := call(t, "POST", a.base+"/signup", creds(cy), ""); code != 201 {
		t.Fatal("signup of cy")
	}
	if out, errOut, rc := cli(t, nil, "domains", "allow", "--require-mfa", "corp.example", "--db", db, secret); rc != 0 ||
		out != "allowed corp.example (second factor required)\n" {
		t.Fatalf("domains allow --require-mfa: %d %q %s", rc, out, errOut)
	}
	for _, n := range []*server{a, b} {
		eventually(t, 6*time.Second, "require_mfa at /login", func() bool {
			code, body := call(t, "POST", n.base+"/login", creds(cy), "")
			msg, _ := body["message"].(string)
			return code == 403 && strings.Contains(msg, "requires two-factor authentication")
		})
	}
	if out, _, rc := cli(t, nil, "domains", "list", "--json", "--db", db, secret); rc != 0 ||
		!strings.Contains(out, `{"domain":"corp.example","belongs_to":0,"require_mfa":true}`) {
		t.Fatalf("domains list --json: %q", out)
	}
	if out, _, rc := cli(t, nil, "domains", "export", "--allow", "--db", db, secret); rc != 0 || out != "corp.example # require_mfa\n" {
		t.Fatalf("domains export --allow: %q", out)
	}
	if _, _, rc := cli(t, nil, "domains", "allow", "corp.example", "--db", db, secret); rc != 0 {
		t.Fatal("plain allow")
	}
	eventually(t, 6*time.Second, "plain allow at /login", func() bool {
		code, _ := call(t, "POST", b.base+"/login", creds(cy), "")
		return code == 200
	})
}
