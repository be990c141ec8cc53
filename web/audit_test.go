package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"user-registry/provider"
	"user-registry/storage"
)

// Request identity of the audited flows: what every event must carry.
const (
	auditIP = "203.0.113.9"
	auditUA = "audit-test-agent/1.0"
)

// auditFlows drives every audited account flow through the HTTP API with
// distinctive canary passwords, and returns the canaries that were sent or
// received: passwords, access and refresh tokens, mail link tokens and a
// client secret.
type auditFlows struct {
	env     *mailEnv
	trail   *auditTrail
	userID  string
	adminID string
	secrets []string
}

func runAuditFlows(t *testing.T, backend string) *auditFlows {
	t.Helper()
	trail := &auditTrail{}
	env := newMailEnv(t, backend, "0", withClients("0"), withAudit(trail))
	f := &auditFlows{env: env, trail: trail}
	h := env.Handler
	from := []reqOpt{withRemote(auditIP + ":4711"), withHeader("User-Agent", auditUA)}
	do := func(method, path, body string, want int, opts ...reqOpt) apiResp {
		t.Helper()
		r := call(t, h, method, path, body, append(append([]reqOpt{}, from...), opts...)...)
		if r.Status != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Raw, want)
		}
		return r
	}
	const email = "canary.user@audit.example"
	pw1, pw2, pw3 := "Canary-Pw-One-7b1e", "Canary-Pw-Two-9c2f", "Canary-Pw-Three-4d3a"
	wrong, unknownPW := "Canary-Wrong-5e4b", "Canary-Unknown-6f5c"

	r := do("POST", "/signup", jsonBody(map[string]string{"email": email, "password": pw1}), 201)
	f.userID = r.str("user_id")
	verify := env.token(t, email, "/verify-email")
	do("GET", "/verify-email?token="+url.QueryEscape(verify), "", 200)

	access, refresh := wantTokens(t, do("POST", "/login", jsonBody(map[string]string{"email": email, "password": pw1}), 200))
	do("POST", "/login", jsonBody(map[string]string{"email": email, "password": wrong}), 401)
	do("POST", "/login", jsonBody(map[string]string{"email": "nobody@audit.example", "password": unknownPW}), 401)

	// Refresh once, then present the rotated token again: reuse.
	_, refresh2 := wantTokens(t, do("POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh}), 200))
	do("POST", "/refresh", jsonBody(map[string]string{"refresh_token": refresh}), 401)

	access2, refresh3 := wantTokens(t, do("POST", "/login", jsonBody(map[string]string{"email": email, "password": pw1}), 200))
	do("POST", "/password", jsonBody(map[string]string{"current_password": pw1, "new_password": pw2}), 200, withToken(access2))

	cr := do("POST", "/clients", jsonBody(map[string]string{"name": "canary app"}), 201, withToken(access2))
	clientID, clientSecret := cr.str("client_id"), cr.str("client_secret")
	do("DELETE", "/clients/"+clientID, "", 204, withToken(access2))
	do("POST", "/logout", "", 200, withToken(access2))

	do("POST", "/password/forgot", jsonBody(map[string]string{"email": email}), 202)
	reset := env.token(t, email, "/password/reset")
	do("POST", "/password/reset", jsonBody(map[string]string{"token": reset, "password": pw3}), 200)

	access3, refresh4 := wantTokens(t, do("POST", "/login", jsonBody(map[string]string{"email": email, "password": pw3}), 200))
	do("POST", "/logout/all", "", 200, withToken(access3))

	// An admin client changes a domain record through the admin API.
	admin, adminSecret, err := env.Config.Clients.Create(context.Background(), provider.ClientSpec{Domain: "ops.example", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	f.adminID = admin.ID
	tr := do("POST", "/oauth2/token", "grant_type=client_credentials", 200, withCT(formCT),
		func(r *http.Request) { r.SetBasicAuth(admin.ID, adminSecret) })
	adminTok := tr.str("access_token")
	do("PUT", "/admin/domains/blocked.example", `{"belongs_to":1}`, 200, withToken(adminTok))

	access4, refresh5 := wantTokens(t, do("POST", "/login", jsonBody(map[string]string{"email": email, "password": pw3}), 200))
	do("DELETE", "/me", jsonBody(map[string]string{"password": pw3}), 204, withToken(access4))

	f.secrets = []string{pw1, pw2, pw3, wrong, unknownPW, access, refresh, refresh2, access2, refresh3,
		clientSecret, verify, reset, access3, refresh4, adminSecret, adminTok, access4, refresh5}
	return f
}

// TestAuditEventsHoldNoSecrets: every password, token, link token and
// client secret of the flows above is absent from every stored event, in
// every field (SEC-71).
func TestAuditEventsHoldNoSecrets(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			f := runAuditFlows(t, b)
			events := f.trail.events(t)
			if len(events) < 15 {
				t.Fatalf("only %d events stored; the canary proves nothing", len(events))
			}
			for _, s := range f.secrets {
				if len(s) < 8 {
					t.Fatalf("canary %q too short to mean anything", s)
				}
				for _, e := range events {
					fields := []string{e.Event, e.UserID, e.ClientID, e.Domain, e.Actor, e.IP, e.UserAgent, e.Detail}
					for _, v := range fields {
						if strings.Contains(v, s) || (len(v) >= 12 && strings.Contains(s, v)) {
							t.Fatalf("event %+v holds the secret %q", e, s)
						}
					}
				}
			}
		})
	}
}

// TestAuditEventCoverage: each flow records its event, with the actor,
// the client IP and the User-Agent of the request (SPEC §13, SEC-69).
func TestAuditEventCoverage(t *testing.T) {
	f := runAuditFlows(t, "sqlite+memory")
	events := f.trail.events(t)
	type want struct {
		event, detail, actor string
		user, client         bool // carries the user id / a client id
	}
	for _, w := range []want{
		{provider.EventSignup, "", provider.ActorUser, true, false},
		{provider.EventEmailVerified, "", provider.ActorUser, true, false},
		{provider.EventLoginSucceeded, "", provider.ActorUser, true, false},
		{provider.EventLoginFailed, "bad password", provider.ActorUser, true, false},
		{provider.EventLoginFailed, "unknown user", provider.ActorUser, false, false},
		{provider.EventRefreshReuse, "", provider.ActorUser, false, false},
		{provider.EventPasswordChanged, "", provider.ActorUser, true, false},
		{provider.EventClientCreated, "", provider.ActorUser, true, true},
		{provider.EventClientDeleted, "", provider.ActorUser, true, true},
		{provider.EventLogout, "", provider.ActorUser, true, true},
		{provider.EventPasswordReset, "", provider.ActorUser, true, false},
		{provider.EventLogoutAll, "", provider.ActorUser, true, false},
		{provider.EventDomainChanged, "blocked", provider.ActorClient(f.adminID), false, false},
		{provider.EventAccountDeleted, "", provider.ActorUser, true, false},
	} {
		t.Run(w.event+" "+w.detail, func(t *testing.T) {
			var got *storage.AuditEvent
			for i, e := range events {
				if e.Event == w.event && (w.detail == "" || e.Detail == w.detail) && (!w.user || e.UserID == f.userID) {
					got = &events[i]
					break
				}
			}
			switch {
			case got == nil:
				t.Fatalf("no %s event among %d", w.event, len(events))
			case got.Actor != w.actor:
				t.Errorf("actor %q, want %q", got.Actor, w.actor)
			case got.IP != auditIP || got.UserAgent != auditUA:
				t.Errorf("ip %q user agent %q, want %q %q", got.IP, got.UserAgent, auditIP, auditUA)
			case w.client && got.ClientID == "":
				t.Errorf("no client id: %+v", got)
			case got.Time.IsZero():
				t.Errorf("no time: %+v", got)
			}
		})
	}
}
