package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"user-registry/storage/sqlstore/sqltest"
)

// backend is a database (and optional Redis) for a black-box run.
type backend struct {
	name string
	args []string // --db, --redis, --key-secret
}

func backends(t *testing.T) []backend {
	t.Helper()
	dbFile := filepath.Join(t.TempDir(), "ur.db")
	out := []backend{{name: "sqlite", args: []string{"--db", "sqlite:" + dbFile}}}
	mysqlURL, redisURL := os.Getenv("USER_REGISTRY_TEST_MYSQL"), os.Getenv("USER_REGISTRY_TEST_REDIS")
	if mysqlURL == "" || redisURL == "" {
		t.Log("USER_REGISTRY_TEST_MYSQL/REDIS unset: mysql+redis backend skipped")
		return out
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	out = append(out, backend{name: "mysql+redis", args: []string{
		"--db", freshMySQL(t, mysqlURL), "--redis", redisURL,
		"--key-secret", base64.StdEncoding.EncodeToString(secret),
	}})
	return out
}

// freshMySQL creates a database of its own for the test and drops it after.
func freshMySQL(t *testing.T, base string) string {
	t.Helper()
	dsn, _ := sqltest.FreshMySQL(t, base)
	return dsn
}

func TestServeAndDomainsWhileRunning(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			base := serve(t, nil, b.args...)
			if code, body := getJSON(t, base+"/healthz"); code != 200 || body["status"] != "ok" {
				t.Fatalf("/healthz = %d %v", code, body)
			}
			if code, body := getJSON(t, base+"/readyz"); code != 200 {
				t.Fatalf("/readyz = %d %v", code, body)
			}
			// Flags between and after the positional arguments.
			args := append([]string{"domains", "block"}, b.args...)
			if out, errOut, code := cli(t, nil, append(args, "EVIL.com.", "mail.example.org")...); code != 0 {
				t.Fatalf("domains block: %d %s %s", code, out, errOut)
			}
			if _, errOut, code := cli(t, nil, append([]string{"domains", "allow", "a.evil.com"}, b.args...)...); code != 0 {
				t.Fatalf("domains allow: %d %s", code, errOut)
			}
			out, errOut, code := cli(t, nil, append([]string{"domains", "list", "--json"}, b.args...)...)
			if code != 0 {
				t.Fatalf("domains list: %d %s", code, errOut)
			}
			var got struct {
				Domains []struct {
					Domain    string `json:"domain"`
					BelongsTo int    `json:"belongs_to"`
				} `json:"domains"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("list --json: %v: %s", err, out)
			}
			want := map[string]int{"evil.com": 1, "mail.example.org": 1, "a.evil.com": 0}
			if len(got.Domains) != len(want) {
				t.Fatalf("domains = %+v, want %v", got.Domains, want)
			}
			for _, d := range got.Domains {
				if bt, ok := want[d.Domain]; !ok || bt != d.BelongsTo {
					t.Fatalf("domains = %+v, want %v", got.Domains, want)
				}
			}
			if _, _, code := cli(t, nil, append([]string{"domains", "remove", "mail.example.org"}, b.args...)...); code != 0 {
				t.Fatalf("domains remove failed")
			}
			if _, errOut, code := cli(t, nil, append([]string{"domains", "remove", "mail.example.org"}, b.args...)...); code != 1 || !strings.Contains(errOut, "no record") {
				t.Fatalf("second remove = %d %q, want 1 and 'no record'", code, errOut)
			}
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	dbArg := "--db=sqlite:" + filepath.Join(t.TempDir(), "x.db")
	tests := []struct {
		name     string
		env      []string
		args     []string
		code     int
		inStderr string
	}{
		{"bad db scheme", nil, []string{"migrate", "--db", "postgres://x"}, 1, "database"},
		{"mysql without key secret", nil, []string{"serve", "--db", "mysql://root@127.0.0.1:1/x"}, 1, ""},
		{"unreachable redis", nil, []string{"serve", "--addr", "127.0.0.1:0", dbArg, "--redis", "redis://127.0.0.1:1/0"}, 1, "redis"},
		{"bad domain", nil, []string{"domains", "block", dbArg, "not a domain"}, 1, "valid domain"},
		{"unknown command", nil, []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", nil, []string{"migrate", "--nope"}, 2, ""},
		{"bad env duration", []string{"USER_REGISTRY_ACCESS_TTL=soon"}, []string{"migrate", dbArg}, 1, "USER_REGISTRY_ACCESS_TTL"},
		// A negative or zero duration is refused, not served as
		// "Cache-Control: max-age=-5" while the key manager uses its default.
		{"negative jwks max age", nil, []string{"serve", "--addr", "127.0.0.1:0", dbArg, "--jwks-max-age", "-5s"}, 1, "--jwks-max-age"},
		{"zero access ttl", []string{"USER_REGISTRY_ACCESS_TTL=0s"}, []string{"serve", "--addr", "127.0.0.1:0", dbArg}, 1, "--access-ttl"},
		{"zero refresh ttl", nil, []string{"serve", "--addr", "127.0.0.1:0", dbArg, "--refresh-ttl", "0"}, 1, "--refresh-ttl"},
		{"negative key rotation", nil, []string{"keys", "rotate", dbArg, "--key-rotation", "-1h"}, 1, "--key-rotation"},
		// A limit that cannot be built stops the server from starting,
		// rather than letting it serve without the limit.
		{"bad ip limit", nil, []string{"serve", "--addr", "127.0.0.1:0", dbArg, "--limit-ip", "lots"}, 1, "--limit-ip"},
		{"bad client limit", nil, []string{"serve", "--addr", "127.0.0.1:0", dbArg, "--limit-client", "lots"}, 1, "--limit-client"},
		// An RP ID must be a domain; an origin is scheme://host[:port] (SPEC §10).
		{"ip rp id", nil, []string{"serve", "--addr", "127.0.0.1:0", dbArg, "--webauthn-rp-id", "127.0.0.1"}, 1, "--webauthn-rp-id"},
		{"origin with a path", nil, []string{"serve", "--addr", "127.0.0.1:0", dbArg, "--webauthn-origin", "https://id.example/login"}, 1, "--webauthn-origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := cli(t, tt.env, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Fatalf("exit %d stderr %q; want %d containing %q", code, errOut, tt.code, tt.inStderr)
			}
			if code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("want a one-line error, got:\n%s", errOut)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Fatalf("panic: %s", errOut)
			}
		})
	}
}

func TestHelpExitsZeroWithoutSecrets(t *testing.T) {
	const canary = "Q2FuYXJ5U2VjcmV0Q2FuYXJ5U2VjcmV0Q2FuYXJ5MDA="
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "-h"}, {"domains", "--help"}, {"version"}} {
		out, errOut, code := cli(t, []string{"USER_REGISTRY_KEY_SECRET=" + canary}, args...)
		if code != 0 {
			t.Errorf("%v: exit %d (%s)", args, code, errOut)
		}
		if strings.Contains(out+errOut, canary) {
			t.Errorf("%v printed the key secret", args)
		}
	}
}

func TestEnvironmentAndFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	envDB, flagDB := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
	env := []string{"USER_REGISTRY_DB=sqlite:" + envDB}
	if _, errOut, code := cli(t, env, "domains", "block", "env.example"); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := cli(t, env, "domains", "block", "--db", "sqlite:"+flagDB, "flag.example"); code != 0 {
		t.Fatal(errOut)
	}
	out, _, _ := cli(t, env, "domains", "list", "--json")
	if !strings.Contains(out, "env.example") || strings.Contains(out, "flag.example") {
		t.Fatalf("env database lists %s", out)
	}
	out, _, _ = cli(t, env, "domains", "list", "--db", "sqlite:"+flagDB, "--json")
	if !strings.Contains(out, "flag.example") || strings.Contains(out, "env.example") {
		t.Fatalf("flag database lists %s", out)
	}
}
