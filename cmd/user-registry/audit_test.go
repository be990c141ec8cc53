package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

type auditListOut struct {
	Events []map[string]any `json:"events"`
}

func auditList(t *testing.T, db string, args ...string) auditListOut {
	t.Helper()
	out, errOut, code := cli(t, nil, append([]string{"audit", "list", "--json", db}, args...)...)
	if code != 0 {
		t.Fatalf("audit list %v: exit %d\n%s", args, code, errOut)
	}
	var v auditListOut
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Events == nil {
		t.Fatalf("audit list %v: not {\"events\":[...]}: %q", args, out)
	}
	return v
}

// TestAuditList: events of the server (flushed at its graceful shutdown)
// and of admin commands (actor cli) are listed by `audit list --json`,
// newest first, with every field, and the filters apply (SPEC §13).
func TestAuditList(t *testing.T) {
	db := "--db=sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	srv := startServer(t, nil, db)
	const email, pw = "audited@example.com", "Audited-horse-battery-1"
	if code, _ := call(t, "POST", srv.base+"/signup", `{"email":"`+email+`","password":"`+pw+`"}`, ""); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	if code, _ := call(t, "POST", srv.base+"/login", `{"email":"`+email+`","password":"`+pw+`"}`, ""); code != 200 {
		t.Fatalf("login: %d", code)
	}
	srv.stop() // graceful: the audit queue is written before exit
	if _, errOut, code := cli(t, nil, "domains", "block", "evil.example", db); code != 0 {
		t.Fatalf("domains block: %s", errOut)
	}
	if _, errOut, code := cli(t, nil, "clients", "create", "--domain", "ops.example", db); code != 0 {
		t.Fatalf("clients create: %s", errOut)
	}

	all := auditList(t, db)
	fields := []string{"time", "event", "user_id", "client_id", "domain", "actor", "ip", "user_agent", "detail"}
	byEvent := map[string]map[string]any{}
	for i, e := range all.Events {
		for _, f := range fields {
			if _, ok := e[f]; !ok {
				t.Fatalf("event %v lacks %q", e, f)
			}
		}
		if i > 0 && e["time"].(string) > all.Events[i-1]["time"].(string) {
			t.Fatalf("not newest first: %v", all.Events)
		}
		if _, seen := byEvent[e["event"].(string)]; !seen {
			byEvent[e["event"].(string)] = e
		}
	}
	for _, c := range []struct{ event, actor, ip string }{
		{"signup", "user", "127.0.0.1"},
		{"login_succeeded", "user", "127.0.0.1"},
		{"domain_changed", "cli", ""},
		{"client_created", "cli", ""},
	} {
		e := byEvent[c.event]
		if e == nil || e["actor"] != c.actor || e["ip"] != c.ip {
			t.Errorf("%s event %v, want actor %q ip %q", c.event, e, c.actor, c.ip)
		}
	}
	if e := byEvent["client_created"]; e == nil || e["client_id"] == "" || e["domain"] != "ops.example" {
		t.Errorf("client_created %v", e)
	}
	if e := byEvent["login_succeeded"]; e == nil || e["user_id"] == "" || !strings.HasPrefix(e["user_agent"].(string), "Go-http-client") {
		t.Errorf("login_succeeded %v", e)
	}

	for _, c := range []struct {
		args []string
		want func(e map[string]any) bool
		n    int // -1: any number ≥ 1
	}{
		{[]string{"--user", email}, func(e map[string]any) bool { return e["user_id"] == byEvent["signup"]["user_id"] }, 2},
		{[]string{"--user", byEvent["signup"]["user_id"].(string)}, func(e map[string]any) bool { return e["user_id"] == byEvent["signup"]["user_id"] }, 2},
		{[]string{"--event", "domain_changed"}, func(e map[string]any) bool { return e["event"] == "domain_changed" }, 1},
		{[]string{"--domain", "OPS.example"}, func(e map[string]any) bool { return e["domain"] == "ops.example" }, 1},
		{[]string{"--since", "24h"}, func(map[string]any) bool { return true }, len(all.Events)},
		{[]string{"--since", "2999-01-01T00:00:00Z"}, nil, 0},
	} {
		got := auditList(t, db, c.args...)
		if len(got.Events) != c.n {
			t.Errorf("%v: %d events, want %d", c.args, len(got.Events), c.n)
		}
		for _, e := range got.Events {
			if !c.want(e) {
				t.Errorf("%v: event %v does not match", c.args, e)
			}
		}
	}
	for _, bad := range [][]string{{"--user", "nobody@example.com"}, {"--since", "yesterday"}, {"--event", "nope"}} {
		if _, _, code := cli(t, nil, append([]string{"audit", "list", db}, bad...)...); code != 1 {
			t.Errorf("audit list %v: exit %d, want 1", bad, code)
		}
	}
	out, _, code := cli(t, nil, "audit", "list", db)
	if code != 0 || !strings.HasPrefix(out, "TIME") || !strings.Contains(out, "domain_changed") {
		t.Errorf("text list: exit %d\n%s", code, out)
	}
}

// TestAuditOff: `serve --audit=false` records nothing new, and the events
// stored before stay listable.
func TestAuditOff(t *testing.T) {
	db := "--db=sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	if _, errOut, code := cli(t, nil, "domains", "block", "evil.example", db); code != 0 {
		t.Fatalf("domains block: %s", errOut)
	}
	srv := startServer(t, nil, db, "--audit=false")
	const email, pw = "unaudited@example.com", "Audited-horse-battery-2"
	if code, _ := call(t, "POST", srv.base+"/signup", `{"email":"`+email+`","password":"`+pw+`"}`, ""); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	if code, _ := call(t, "POST", srv.base+"/login", `{"email":"`+email+`","password":"`+pw+`"}`, ""); code != 200 {
		t.Fatalf("login: %d", code)
	}
	srv.stop()
	got := auditList(t, db)
	if len(got.Events) != 1 || got.Events[0]["event"] != "domain_changed" {
		t.Fatalf("events with --audit=false: %v", got.Events)
	}
}
