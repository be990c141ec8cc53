package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
	"user-registry/storage/redisstore"
	"user-registry/storage/sqlstore"
)

// logoutEnv is a complete server wired as serve wires it for logout (SPEC
// §12): sessions tracked, clients recorded per session, every way a
// session ends queueing back-channel tokens, delivered by a worker the
// test drives (DeliverDue) on a clock it advances: nothing waits.
type logoutEnv struct {
	flowEnv
	clk       *fakeClock
	eph       logoutEph
	logouts   *provider.Logouts
	bc        *provider.Backchannel
	userAdmin *provider.UserAdmin
	lifecycle *provider.Lifecycle
	mails     *mailCapture
	audit     *auditCapture
}

// auditCapture keeps the audit events of the end-session endpoint.
type auditCapture struct {
	mu     sync.Mutex
	events []provider.AuditEvent
}

func (a *auditCapture) Record(_ context.Context, e provider.AuditEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *auditCapture) last() provider.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) == 0 {
		return provider.AuditEvent{}
	}
	return a.events[len(a.events)-1]
}

type logoutEph interface {
	ephemeralStore
	storage.NonceStore
	storage.LogoutStore
}

// fakeClock starts at the wall clock and moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// mailCapture is a mail queue that keeps the mails.
type mailCapture struct {
	mu    sync.Mutex
	mails []provider.Mail
}

func (m *mailCapture) Enqueue(x provider.Mail) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mails = append(m.mails, x)
	return true
}

var resetTokenRE = regexp.MustCompile(`/password/reset\?token=([A-Za-z0-9_-]+)`)

// resetToken returns the token of the last reset mail.
func (m *mailCapture) resetToken(t testing.TB) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.mails) - 1; i >= 0; i-- {
		if s := resetTokenRE.FindStringSubmatch(m.mails[i].Text); s != nil {
			return s[1]
		}
	}
	t.Fatal("no reset mail")
	return ""
}

func newLogoutEnv(t testing.TB, backend string) *logoutEnv {
	t.Helper()
	ctx := context.Background()
	clk := &fakeClock{now: time.Now().Truncate(time.Second)}
	var dsn string
	var eph logoutEph
	switch backend {
	case "sqlite+memory":
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "test.db")
		eph = memstore.New(memstore.WithClock(clk.Now))
	case "mysql+redis":
		dsn = freshTestDatabase(t)
		prefix := make([]byte, 6)
		rand.Read(prefix)
		rs, err := redisstore.Open(ctx, redisstore.Options{URL: os.Getenv("USER_REGISTRY_TEST_REDIS"),
			Prefix: "urlogouttest:" + hex.EncodeToString(prefix) + ":", Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rs.Close() })
		eph = rs
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	mgr, err := keys.NewManager(db, keys.Config{Secret: secret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	tokens := keys.NewTokens(mgr, eph, keys.TokenConfig{Issuer: issuer, Now: clk.Now})
	policy := provider.NewDomainPolicy(db, false, nil)
	key := make([]byte, 32)
	rand.Read(key)
	clients := provider.NewClients(db, db, policy, tokens, key, clk.Now)
	noLimit, err := provider.NewRateLimiter(eph.Rate(), "0")
	if err != nil {
		t.Fatal(err)
	}
	clientAuth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: clients, Limit: noLimit, Nonces: eph,
		Issuer: issuer, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	bc, err := provider.NewBackchannel(provider.BackchannelDeps{Store: eph, Tokens: tokens, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	logouts, err := provider.NewLogouts(provider.LogoutDeps{Store: eph, Revocations: eph, Refresh: eph, Clients: db, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	rev := logouts.Revocations(eph)
	acfg := provider.DefaultAccountsConfig(issuer)
	// The pause after a not-before (provider.Accounts.LogoutAll) passes
	// on the fake clock.
	acfg.Sleep = func(_ context.Context, d time.Duration) error { clk.Advance(d); return nil }
	deps := testAccountDeps(db, policy, tokens, eph, acfg)
	deps.Revocations, deps.Logouts, deps.Now = rev, logouts, clk.Now
	accounts, err := provider.NewAccounts(deps)
	if err != nil {
		t.Fatal(err)
	}
	sessions := mustSessions(t, provider.SessionDeps{Store: eph, Revocations: eph, Users: db, Logouts: logouts, Now: clk.Now})
	flow, err := provider.NewCodeFlow(provider.CodeFlowDeps{Accounts: accounts, Clients: clients, Store: eph,
		Revocations: eph, IDs: tokens, Logouts: logouts, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	userAdmin, err := provider.NewUserAdmin(provider.UserAdminDeps{Users: db, Revocations: rev, Consents: eph, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mails := &mailCapture{}
	links, err := provider.NewMailLinks(provider.MailLinkDeps{Tokens: eph, Mail: mails, BaseURL: issuer, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	lifecycle, err := provider.NewLifecycle(provider.LifecycleDeps{Accounts: accounts, Links: links, Rate: eph.Rate(),
		AddressLimit: "0", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	audit := &auditCapture{}
	endSession, err := provider.NewEndSession(provider.EndSessionDeps{Tokens: tokens, Clients: clients, Sessions: sessions,
		Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Issuer: issuer, Keys: mgr, Tokens: tokens, JWKSMaxAge: keys.DefaultJWKSMaxAge,
		DomainAdmin: &provider.DomainAdmin{Store: db, Policy: policy}, Policy: policy,
		Accounts: accounts, Clients: clients, ClientAuth: clientAuth, CodeFlow: flow, Sessions: sessions,
		EndSession: endSession, UserAdmin: userAdmin, Lifecycle: lifecycle,
		Ready: map[string]Pinger{"database": db, "sessions": eph},
	}
	te := &testEnv{Server: srv, Config: cfg, DB: db, Eph: eph, Keys: mgr, Tokens: tokens, Accounts: accounts, Policy: policy}
	te.Handler = New(cfg)
	srv.Config.Handler = te.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	e := &logoutEnv{
		flowEnv: flowEnv{oauthEnv: oauthEnv{te, clients}, email: "alice@flow.example"},
		clk:     clk, eph: eph, logouts: logouts, bc: bc, userAdmin: userAdmin, lifecycle: lifecycle, mails: mails, audit: audit,
	}
	pageCreateUser(t, te, e.email, pagePassword)
	return e
}

// receiver is an app's back-channel logout endpoint: it records every
// logout_token and answers with the next status of its script (then 200).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	tokens  []string
	script  []int
	release chan struct{} // when set, each request blocks until it is closed
	entered chan struct{} // receives once per request, before blocking
}

func newReceiver(t testing.TB, script ...int) *receiver {
	t.Helper()
	r := &receiver{script: script, entered: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.entered <- struct{}{}
		if r.release != nil {
			select {
			case <-r.release:
			case <-req.Context().Done():
				return
			}
		}
		_ = req.ParseForm()
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.tokens = append(r.tokens, req.PostForm.Get("logout_token"))
		status := http.StatusOK
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Server.Close)
	return r
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

// signedInApp signs a fresh browser in and through the code flow of
// client id (secret) and returns the browser and the token answer.
func (e *logoutEnv) signedInApp(t testing.TB, b *pageClient, id, secret string) answer {
	t.Helper()
	v, _ := pkce()
	code := b.getCode(authParams(id, flowRedirect, v))
	a := e.exchange(t, id, secret, url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}})
	if a.status != http.StatusOK {
		t.Fatalf("exchange = %d %s", a.status, a.body)
	}
	return a
}

// deliver runs the worker once at the current fake time.
func (e *logoutEnv) deliver(t testing.TB) int {
	t.Helper()
	n, err := e.bc.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}
