package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeOnRedisTopologies runs the account flows of a `serve` whose
// session state is on a Redis Cluster (--redis-cluster) or behind Redis
// Sentinel (--redis-sentinel, --redis-master), SPEC §9: sign up, log in,
// refresh (rotation), reuse detection, logout. On the cluster, the Lua
// scripts of each touch only keys of one hash slot.
func TestServeOnRedisTopologies(t *testing.T) {
	sentinels, master, _ := strings.Cut(os.Getenv("USER_REGISTRY_TEST_REDIS_SENTINEL"), "/")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"cluster", []string{"--redis-cluster", os.Getenv("USER_REGISTRY_TEST_REDIS_CLUSTER")}},
		{"sentinel", []string{"--redis-sentinel", sentinels, "--redis-master", master}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.args[1] == "" || tc.args[len(tc.args)-1] == "" {
				t.Skipf("no Redis %s configured for tests", tc.name)
			}
			accountFlows(t, append([]string{"--db=sqlite:" + filepath.Join(t.TempDir(), "r.db")}, tc.args...))
		})
	}
}

func accountFlows(t *testing.T, args []string) {
	srv := startServer(t, nil, args...)
	const pw = "S3cure-horse-battery"
	if code, body := call(t, "POST", srv.base+"/signup", `{"email":"cluster@example.com","password":"`+pw+`"}`, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	code, tok := call(t, "POST", srv.base+"/login", `{"email":"cluster@example.com","password":"`+pw+`"}`, "")
	if code != 200 {
		t.Fatalf("login: %d %v", code, tok)
	}
	refresh, _ := tok["refresh_token"].(string)
	code, next := call(t, "POST", srv.base+"/refresh", `{"refresh_token":"`+refresh+`"}`, "")
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, next)
	}
	access, _ := next["access_token"].(string)
	if code, _ := call(t, "GET", srv.base+"/me", "", access); code != 200 {
		t.Fatalf("/me: %d", code)
	}
	// Reusing the rotated token ends the family and its access tokens.
	if code, _ := call(t, "POST", srv.base+"/refresh", `{"refresh_token":"`+refresh+`"}`, ""); code != 401 {
		t.Fatalf("reuse: %d, want 401", code)
	}
	if code, _ := call(t, "GET", srv.base+"/me", "", access); code != 401 {
		t.Fatalf("access token of a reused family: %d, want 401", code)
	}
	code, tok = call(t, "POST", srv.base+"/login", `{"email":"cluster@example.com","password":"`+pw+`"}`, "")
	if code != 200 {
		t.Fatalf("second login: %d", code)
	}
	access, _ = tok["access_token"].(string)
	if code, _ := call(t, "POST", srv.base+"/logout", "", access); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	if code, _ := call(t, "GET", srv.base+"/me", "", access); code != 401 {
		t.Fatalf("after logout: %d, want 401", code)
	}
	if code, _ := call(t, "GET", srv.base+"/readyz", "", ""); code != 200 {
		t.Fatalf("/readyz on the cluster: %d", code)
	}
}
