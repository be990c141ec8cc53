package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/storage/sqlstore/sqltest"
)

// tokenCall posts client_credentials to base+path with Basic credentials
// and an optional DPoP proof, and returns the status and JSON answer.
func tokenCall(t *testing.T, base, path, id, secret, proof string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", base+path, strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

// createdClient runs `clients create` with args and decodes its output.
func createdClient(t *testing.T, args ...string) (id, secret string) {
	t.Helper()
	out, errOut, rc := cli(t, nil, append([]string{"clients", "create"}, args...)...)
	if rc != 0 {
		t.Fatalf("clients create: %s", errOut)
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("clients create output %q: %v", out, err)
	}
	return c.ClientID, c.ClientSecret
}

// TestTwoNodesDPoPReplay: two `serve` processes on one MySQL and one Redis
// agree on a proof's htu (the issuer's URL, not the node's address), and a
// proof whose jti node A accepted is refused by node B (SEC-63). A client
// created with --dpop gets no token from either node without a proof.
func TestTwoNodesDPoPReplay(t *testing.T) {
	mysqlRoot, redisURL := mysqlAndRedis(t)
	db, _ := sqltest.FreshMySQL(t, mysqlRoot)
	secret := keySecretArg()
	const issuer = "http://registry.test"
	args := []string{"--db", db, "--redis", redisURL, secret, "--issuer", issuer}
	a, b := startServer(t, nil, args...), startServer(t, nil, args...)
	id, sec := createdClient(t, "--domain", "machines.example", "--dpop", "--db", db, secret)

	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := keys.NewDPoPSigner(ec, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	proof, err := signer.Proof("POST", issuer+"/authority-token", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if code, v := tokenCall(t, b.base, "/authority-token", id, sec, ""); code != 400 || v["error"] != "invalid_dpop_proof" {
		t.Fatalf("--dpop client without a proof on B: %d %v", code, v)
	}
	if code, v := tokenCall(t, a.base, "/authority-token", id, sec, proof); code != 200 || v["token_type"] != "DPoP" {
		t.Fatalf("proof on A: %d %v", code, v)
	}
	if code, v := tokenCall(t, b.base, "/authority-token", id, sec, proof); code != 400 || v["error"] != "invalid_dpop_proof" {
		t.Fatalf("the proof A accepted, replayed on B: %d %v", code, v)
	}
	fresh, _ := signer.Proof("POST", issuer+"/authority-token", "", time.Now())
	if code, v := tokenCall(t, b.base, "/authority-token", id, sec, fresh); code != 200 || v["token_type"] != "DPoP" {
		t.Fatalf("a fresh proof on B: %d %v", code, v)
	}
}

// TestRotateSecretCommand: `clients rotate-secret` prints the new secret
// and the previous one's expiry; with a grace both work on a running
// server, with --grace 0 only the new one; an unknown id fails (SEC-64).
func TestRotateSecretCommand(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			base := serve(t, nil, b.args...)
			id, oldSecret := createdClient(t, append([]string{"--domain", "rotate.example"}, b.args...)...)
			rotate := func(grace ...string) (string, time.Time) {
				t.Helper()
				out, errOut, rc := cli(t, nil, append(append([]string{"clients", "rotate-secret", id}, grace...), b.args...)...)
				if rc != 0 {
					t.Fatalf("rotate-secret: %s", errOut)
				}
				var r struct {
					ClientID  string `json:"client_id"`
					Secret    string `json:"client_secret"`
					ExpiresAt string `json:"previous_secret_expires_at"`
				}
				if err := json.Unmarshal([]byte(out), &r); err != nil || r.ClientID != id || r.Secret == "" {
					t.Fatalf("rotate-secret output %q: %v", out, err)
				}
				exp, err := time.Parse(time.RFC3339, r.ExpiresAt)
				if err != nil {
					t.Fatal(err)
				}
				return r.Secret, exp
			}
			works := func(secret string) bool {
				code, _ := tokenCall(t, base, "/oauth2/token", id, secret, "")
				return code == 200
			}
			newSecret, exp := rotate() // default grace: 24 h
			if d := time.Until(exp); d < 23*time.Hour || d > 25*time.Hour {
				t.Fatalf("default grace ends at %v", exp)
			}
			// The server caches client records for at most 5 s (SPEC §1).
			eventually(t, 6*time.Second, "new secret accepted", func() bool { return works(newSecret) })
			if !works(oldSecret) {
				t.Fatal("the previous secret stopped working during its grace")
			}
			newest, _ := rotate("--grace", "0s")
			eventually(t, 6*time.Second, "grace 0 ends the previous secret", func() bool {
				return works(newest) && !works(newSecret) && !works(oldSecret)
			})
			if _, errOut, rc := cli(t, nil, append([]string{"clients", "rotate-secret", "nope"}, b.args...)...); rc == 0 || !strings.Contains(errOut, "no client") {
				t.Fatalf("unknown id: rc %d %s", rc, errOut)
			}
			if _, _, rc := cli(t, nil, append([]string{"clients", "rotate-secret", id, "--grace", "soon"}, b.args...)...); rc == 0 {
				t.Fatal("a bad --grace was accepted")
			}
		})
	}
}
