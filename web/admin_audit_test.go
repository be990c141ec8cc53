package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"user-registry/provider"
)

// clientToken registers a client (admin or not) and returns an authority
// token for it, through the real endpoint.
func clientToken(t *testing.T, env *mailEnv, admin bool) (id, token string) {
	t.Helper()
	c, secret, err := env.Config.Clients.Create(context.Background(), provider.ClientSpec{Domain: "ops.example", Admin: admin})
	if err != nil {
		t.Fatal(err)
	}
	r := call(t, env.Handler, "POST", "/oauth2/token", "grant_type=client_credentials", withCT(formCT),
		func(r *http.Request) { r.SetBasicAuth(c.ID, secret) })
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Raw)
	}
	return c.ID, r.str("access_token")
}

// openAPIAudit checks GET /admin/audit against the document, once the
// events of the whole run are written.
func openAPIAudit(t *testing.T, env *mailEnv, api *apiContract, trail *auditTrail) {
	t.Helper()
	_, admin := clientToken(t, env, true)
	_, plain := clientToken(t, env, false)
	trail.events(t) // flush
	rec := api.do(apiCall{method: "GET", path: "/admin/audit", query: "limit=2&event=login_succeeded", auth: "Bearer " + admin, want: 200})
	var page struct {
		Events     []provider.AuditEntry `json:"events"`
		NextCursor string                `json:"next_cursor"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Events) != 2 || page.NextCursor == "" {
		t.Fatalf("first page %s (%v)", rec.Body, err)
	}
	api.do(apiCall{method: "GET", path: "/admin/audit", query: "cursor=" + page.NextCursor, auth: "Bearer " + admin, want: 200})
	api.do(apiCall{method: "GET", path: "/admin/audit", query: "limit=501", auth: "Bearer " + admin, want: 400})
	api.do(apiCall{method: "GET", path: "/admin/audit", auth: "Bearer " + plain, want: http.StatusForbidden})
	api.do(apiCall{method: "GET", path: "/admin/audit", want: 401})
}

// TestAdminAuditPaging: GET /admin/audit pages newest first with an opaque
// cursor, like /admin/users; filters apply; bad parameters are 400; only
// admin client tokens are admitted (SEC-69).
func TestAdminAuditPaging(t *testing.T) {
	trail := &auditTrail{}
	env := newMailEnv(t, "sqlite+memory", "0", withClients("0"), withAudit(trail))
	_, admin := clientToken(t, env, true)
	_, plain := clientToken(t, env, false)
	// 7 failed logins of one unknown domain, 3 of another.
	for i := range 10 {
		domain := "one.example"
		if i >= 7 {
			domain = "two.example"
		}
		call(t, env.Handler, "POST", "/login", jsonBody(map[string]string{"email": "x@" + domain, "password": "whatever 12345"}))
	}
	trail.events(t)
	list := func(query string, opts ...reqOpt) apiResp {
		return call(t, env.Handler, "GET", "/admin/audit?"+query, "", opts...)
	}
	// Walk every page of 3 of the one.example events.
	var seen []string
	cursor := ""
	for range 10 {
		r := list("domain=one.example&event=login_failed&limit=3&cursor="+url.QueryEscape(cursor), withToken(admin))
		if r.Status != 200 {
			t.Fatalf("page: %d %s", r.Status, r.Raw)
		}
		events := r.Body["events"].([]any)
		for _, e := range events {
			ev := e.(map[string]any)
			if ev["domain"] != "one.example" || ev["event"] != "login_failed" || ev["detail"] != "unknown user" {
				t.Fatalf("event outside the filter: %v", ev)
			}
			seen = append(seen, ev["time"].(string))
		}
		next, has := r.Body["next_cursor"]
		if !has {
			break
		}
		if len(events) != 3 {
			t.Fatalf("a page with a next_cursor holds %d events, want 3", len(events))
		}
		cursor = next.(string)
	}
	if len(seen) != 7 {
		t.Fatalf("pages held %d events, want 7", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] > seen[i-1] {
			t.Fatalf("not newest first: %v", seen)
		}
	}
	for _, c := range []struct {
		name, query string
		opts        []reqOpt
		status      int
	}{
		{"default page", "", []reqOpt{withToken(admin)}, 200},
		{"since duration", "since=1h", []reqOpt{withToken(admin)}, 200},
		{"since time", "since=2020-01-02T03:04:05Z", []reqOpt{withToken(admin)}, 200},
		{"limit 500", "limit=500", []reqOpt{withToken(admin)}, 200},
		{"limit too big", "limit=501", []reqOpt{withToken(admin)}, 400},
		{"limit zero", "limit=0", []reqOpt{withToken(admin)}, 400},
		{"limit not a number", "limit=ten", []reqOpt{withToken(admin)}, 400},
		{"bad cursor", "cursor=%21%21", []reqOpt{withToken(admin)}, 400},
		{"forged cursor", "cursor=" + "bm90LWEtY3Vyc29y", []reqOpt{withToken(admin)}, 400},
		{"unknown event", "event=coffee_made", []reqOpt{withToken(admin)}, 400},
		{"bad since", "since=yesterday", []reqOpt{withToken(admin)}, 400},
		{"unknown email", "user=nobody@one.example", []reqOpt{withToken(admin)}, 400},
		{"not an admin client", "", []reqOpt{withToken(plain)}, 403},
		{"no token", "", nil, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := list(c.query, c.opts...); r.Status != c.status {
				t.Fatalf("= %d %s, want %d", r.Status, r.Raw, c.status)
			}
		})
	}
	if r := list("domain=two.example", withToken(admin)); len(r.Body["events"].([]any)) != 3 {
		t.Fatalf("domain filter: %s", r.Raw)
	}
}

// TestAdminAuditDomainAdmin (SEC-69): a domain:admin client sees exactly
// its own domain's events, and naming another domain is refused.
func TestAdminAuditDomainAdmin(t *testing.T) {
	trail := &auditTrail{}
	env := newMailEnv(t, "sqlite+memory", "0", withClients("0"), withAudit(trail))
	c, secret, err := env.Config.Clients.Create(context.Background(), provider.ClientSpec{Domain: "one.example", DomainAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := call(t, env.Handler, "POST", "/oauth2/token", "grant_type=client_credentials", withCT(formCT),
		func(r *http.Request) { r.SetBasicAuth(c.ID, secret) })
	if tok.Status != 200 {
		t.Fatalf("token: %d %s", tok.Status, tok.Raw)
	}
	corp := tok.str("access_token")
	for _, email := range []string{"x@one.example", "x@one.example", "y@sub.one.example", "z@two.example"} {
		call(t, env.Handler, "POST", "/login", jsonBody(map[string]string{"email": email, "password": "whatever 12345"}))
	}
	trail.events(t)
	r := call(t, env.Handler, "GET", "/admin/audit?event=login_failed", "", withToken(corp))
	if r.Status != 200 {
		t.Fatalf("own domain: %d %s", r.Status, r.Raw)
	}
	events := r.Body["events"].([]any)
	if len(events) != 2 {
		t.Fatalf("domain admin saw %d login_failed events, want its domain's 2: %s", len(events), r.Raw)
	}
	for _, e := range events {
		if d := e.(map[string]any)["domain"]; d != "one.example" {
			t.Fatalf("domain admin saw an event of %v", d)
		}
	}
	for _, q := range []string{"domain=two.example", "domain=sub.one.example"} {
		if r := call(t, env.Handler, "GET", "/admin/audit?"+q, "", withToken(corp)); r.Status != 403 {
			t.Fatalf("%s: %d %s, want 403", q, r.Status, r.Raw)
		}
	}
}
