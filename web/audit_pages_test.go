package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// TestAccountRecentActivity: the account page lists the user's last 20
// events (time, event, IP), and only theirs, without inline script; a
// browser logout is recorded.
func TestAccountRecentActivity(t *testing.T) {
	trail := &auditTrail{}
	env := newTestEnv(t, "sqlite+memory", withAudit(trail))
	const email = "pat@activity.example"
	pageCreateUser(t, env, email, testPassword)
	pageCreateUser(t, env, "other@activity.example", testPassword)
	b := newPageClient(t, env)
	b.signIn(email, testPassword)
	other := newPageClient(t, env)
	other.signIn("other@activity.example", testPassword)
	if p := other.submit("/account", "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.status)
	}
	events := trail.events(t) // flush; nothing is recorded afterwards
	var patID string
	logouts := 0
	for _, e := range events {
		if e.Event == provider.EventSignup && e.Domain == "activity.example" && patID == "" && e.UserID != "" {
			u, _ := env.Accounts.Me(context.Background(), e.UserID)
			if u.Email == email {
				patID = e.UserID
			}
		}
		if e.Event == provider.EventLogout && e.Detail == "browser session" && e.IP == "127.0.0.1" {
			logouts++
		}
	}
	if patID == "" || logouts != 1 {
		t.Fatalf("user id %q, %d browser logouts recorded; events %+v", patID, logouts, events)
	}

	p := b.get("/account")
	pageWantStatus(t, "account", p, 200)
	pageWantBody(t, "account", p, "Recent activity", "login_succeeded", "127.0.0.1")
	if strings.Contains(p.body, "<td>logout</td>") {
		t.Fatalf("another user's logout is listed:\n%s", p.body)
	}
	checkPageHeaders(t, p) // no inline script (passkeys.js is a static file)

	// Many more events: only the newest 20 are shown.
	var more []storage.AuditEvent
	for i := range 25 {
		more = append(more, storage.AuditEvent{
			Time: time.Now().Add(time.Duration(i) * time.Second), Event: provider.EventLoginFailed, UserID: patID,
			IP: fmt.Sprintf("198.51.100.%d", i), Detail: "bad password",
		})
	}
	if err := trail.db.AppendAuditEvents(context.Background(), more); err != nil {
		t.Fatal(err)
	}
	p = b.get("/account")
	if n := strings.Count(p.body, "<td>login_failed</td>"); n != 20 {
		t.Fatalf("%d rows listed, want 20", n)
	}
	if !strings.Contains(p.body, "198.51.100.24") || strings.Contains(p.body, "198.51.100.4<") {
		t.Fatal("the rows shown are not the newest 20")
	}
}

// TestIPLimitAudited: a refusal by the per-IP limit records rate_limited
// with the client address, once per address and minute however many
// requests are refused.
func TestIPLimitAudited(t *testing.T) {
	trail := &auditTrail{}
	env := newTestEnv(t, "sqlite+memory", limitIP("2/1m"), withAudit(trail))
	body := jsonBody(map[string]string{"email": "x@limit.example", "password": "whatever 12345"})
	refused := 0
	for range 6 {
		if r := call(t, env.Handler, "POST", "/login", body, withRemote("192.0.2.55:1000")); r.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 4 {
		t.Fatalf("%d refused, want 4", refused)
	}
	n := 0
	for _, e := range trail.events(t) {
		if e.Event == provider.EventRateLimited {
			n++
			if e.IP != "192.0.2.55" || e.Detail != "ip limit" {
				t.Errorf("event %+v", e)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d rate_limited events, want 1", n)
	}
}
