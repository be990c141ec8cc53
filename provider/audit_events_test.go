package provider_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// auditRecorder is an Auditor that keeps what it is given, as the writer
// would store it (RequestInfo copied in).
type auditRecorder struct {
	mu     sync.Mutex
	events []provider.AuditEvent
}

func (r *auditRecorder) Record(ctx context.Context, e provider.AuditEvent) {
	ri := provider.RequestInfoFrom(ctx)
	if e.Actor == "" {
		e.Actor = ri.Actor
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *auditRecorder) list() []provider.AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]provider.AuditEvent(nil), r.events...)
}

// TestAuditLoginEvents: each login outcome records its event and reason,
// the per-account limit records rate_limited, and no event holds the
// password typed (SEC-71).
func TestAuditLoginEvents(t *testing.T) {
	env := newAcctEnv(t)
	rec := &auditRecorder{}
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.Sleep, cfg.LoginLimit = env.clk.Sleep, "2/15m"
	deps := env.deps(cfg)
	deps.Audit = rec
	acc, err := provider.NewAccounts(deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const pw, wrong, unknown = "Audit-Canary-Right-1", "Audit-Canary-Wrong-2", "Audit-Canary-Nobody-3"
	u, err := acc.Signup(ctx, provider.SignupInput{Email: "ann@audit.example", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.Login(ctx, "ann@audit.example", pw); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := acc.Login(ctx, "ann@audit.example", wrong); !errors.Is(err, provider.ErrWrongPassword) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, err := acc.Login(ctx, "ann@audit.example", pw); !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("third failure: %v, want rate limited", err)
	}
	if _, err := acc.Login(ctx, "nobody@other.example", unknown); !errors.Is(err, provider.ErrUnknownUser) {
		t.Fatalf("unknown: %v", err)
	}
	want := []struct{ event, detail, user, domain string }{
		{provider.EventSignup, "", u.ID, "audit.example"},
		{provider.EventLoginSucceeded, "", u.ID, "audit.example"},
		{provider.EventLoginFailed, "bad password", u.ID, "audit.example"},
		{provider.EventLoginFailed, "bad password", u.ID, "audit.example"},
		{provider.EventRateLimited, "login account limit", "", "audit.example"},
		{provider.EventLoginFailed, "rate limited", "", "audit.example"},
		{provider.EventLoginFailed, "unknown user", "", "other.example"},
	}
	got := rec.list()
	if len(got) != len(want) {
		t.Fatalf("recorded %d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Event != w.event || g.Detail != w.detail || g.UserID != w.user || g.Domain != w.domain || g.Actor != provider.ActorUser {
			t.Errorf("event %d = %+v, want %+v (actor user)", i, g, w)
		}
		for _, s := range []string{pw, wrong, unknown, "ann@audit.example", "nobody@"} {
			if strings.Contains(g.Detail+g.UserID+g.Domain, s) {
				t.Errorf("event %d holds %q", i, s)
			}
		}
	}
}

// TestAuditOperatorEvents: client and domain changes record the actor the
// context names (the CLI here), and the per-client limit records
// rate_limited with the client.
func TestAuditOperatorEvents(t *testing.T) {
	rec := &auditRecorder{}
	ctx := provider.WithRequestInfo(context.Background(), provider.RequestInfo{Actor: provider.ActorCLI})
	cs, st, _, _ := newClients(t)
	cs.SetAuditor(rec)
	c, secret, err := cs.Create(ctx, provider.ClientSpec{Domain: "Ops.Example"})
	if err != nil {
		t.Fatal(err)
	}
	lim, err := provider.NewRateLimiter(st.Rate(), "1/1m")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: cs, Limit: lim, Audit: rec})
	if err != nil {
		t.Fatal(err)
	}
	cr := provider.ClientCredentials{ID: c.ID, Secret: secret, Method: provider.AuthSecretBasic}
	if _, err := auth.Authenticate(context.Background(), cr, provider.UseClientCredentials); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Authenticate(context.Background(), cr, provider.UseClientCredentials); !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("second request: %v, want rate limited", err)
	}
	if err := cs.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := cs.Delete(ctx, c.ID); !errors.Is(err, provider.ErrClientNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	da := &provider.DomainAdmin{Store: st, Audit: rec}
	if _, err := da.Put(ctx, "Blocked.Example.", storage.DomainBlocked, false); err != nil {
		t.Fatal(err)
	}
	if _, err := da.Remove(ctx, "blocked.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := da.Remove(ctx, "blocked.example"); !errors.Is(err, provider.ErrNoDomainRecord) {
		t.Fatalf("second remove: %v", err)
	}
	want := []provider.AuditEvent{
		{Event: provider.EventClientCreated, ClientID: c.ID, Domain: "ops.example", Actor: provider.ActorCLI},
		{Event: provider.EventRateLimited, ClientID: c.ID, Domain: "ops.example", Detail: "client limit"},
		{Event: provider.EventClientDeleted, ClientID: c.ID, Domain: "ops.example", Actor: provider.ActorCLI},
		{Event: provider.EventDomainChanged, Domain: "blocked.example", Detail: "blocked", Actor: provider.ActorCLI},
		{Event: provider.EventDomainChanged, Domain: "blocked.example", Detail: "removed", Actor: provider.ActorCLI},
	}
	got := rec.list()
	if len(got) != len(want) {
		t.Fatalf("recorded %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// failingAudit is an audit store that is always down.
type failingAudit struct{}

func (failingAudit) AppendAuditEvents(context.Context, []storage.AuditEvent) error {
	return storage.ErrUnavailable
}

// TestLoginWithFailingAuditStore: an audit store that fails every write
// never fails or delays a sign-in; the loss is counted (SEC-71).
func TestLoginWithFailingAuditStore(t *testing.T) {
	env := newAcctEnv(t)
	w, err := provider.NewAuditWriter(provider.AuditWriterConfig{Store: failingAudit{}, Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.Sleep = env.clk.Sleep
	deps := env.deps(cfg)
	deps.Audit = w
	acc, err := provider.NewAccounts(deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := acc.Signup(ctx, provider.SignupInput{Email: "bob@audit.example", Password: "Audit-Fails-Pw-1"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := acc.Login(ctx, "bob@audit.example", "Audit-Fails-Pw-1"); err != nil {
			t.Fatalf("login with the audit store down: %v", err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Failed != 4 || st.Written != 0 {
		t.Fatalf("stats %+v, want the 4 events counted as failed", st)
	}
}

// TestAuditLogQueries: the query owner validates its input, resolves an
// email to the user's id, pages with an opaque cursor, confines a caller
// to its domain, and prunes by age.
func TestAuditLogQueries(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	users := memstore.New()
	store := memstore.NewAudit(clk.Now)
	u := storage.User{ID: "11111111-1111-1111-1111-111111111111", Email: "ann@a.example", EmailCanonical: "ann@a.example", Domain: "a.example"}
	if err := users.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	var in []storage.AuditEvent
	for i := range 5 {
		in = append(in, storage.AuditEvent{Time: clk.Now(), Event: provider.EventLoginSucceeded, UserID: u.ID, Domain: "a.example"})
		in = append(in, storage.AuditEvent{Time: clk.Now(), Event: provider.EventLoginFailed, Domain: "b.example", Detail: string(rune('0' + i))})
		clk.Advance(time.Second)
	}
	if err := store.AppendAuditEvents(ctx, in); err != nil {
		t.Fatal(err)
	}
	l, err := provider.NewAuditLog(provider.AuditLogDeps{Store: store, Users: users, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	page, err := l.List(ctx, provider.AuditQuery{User: "ANN@a.example", Limit: 2})
	if err != nil || len(page.Events) != 2 || page.NextCursor == "" {
		t.Fatalf("by email: %+v %v", page, err)
	}
	rest, err := l.List(ctx, provider.AuditQuery{User: u.ID, Limit: 10, Cursor: page.NextCursor})
	if err != nil || len(rest.Events) != 3 || rest.NextCursor != "" {
		t.Fatalf("second page: %+v %v", rest, err)
	}
	if p, err := l.ListFor(ctx, provider.AuditQuery{}, "b.example"); err != nil || len(p.Events) != 5 {
		t.Fatalf("confined to b.example: %d events, %v", len(p.Events), err)
	}
	if _, err := l.ListFor(ctx, provider.AuditQuery{Domain: "a.example"}, "b.example"); !errors.Is(err, provider.ErrForbidden) {
		t.Fatalf("another domain when confined: %v", err)
	}
	for _, q := range []provider.AuditQuery{
		{Limit: -1}, {Limit: provider.MaxAuditPage + 1}, {Event: "nope"}, {Cursor: "!!"}, {Domain: "not a domain"},
		{User: "nobody@a.example"},
	} {
		if _, err := l.List(ctx, q); !errors.Is(err, provider.ErrInvalidInput) {
			t.Errorf("query %+v: %v, want invalid input", q, err)
		}
	}
	clk.Advance(provider.DefaultAuditRetention)
	if n, err := l.Prune(ctx, provider.DefaultAuditRetention+3*time.Second); err != nil || n != 4 {
		t.Fatalf("prune: %d %v, want the 4 oldest", n, err)
	}
}
