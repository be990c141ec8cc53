package web

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
	"user-registry/storage/redisstore"
	"user-registry/storage/sqlstore"
)

// testEnv is a complete server over real stores for HTTP tests.
type testEnv struct {
	Server   *httptest.Server
	Handler  http.Handler
	Config   Config
	DB       *sqlstore.Store
	Eph      ephemeralStore
	Keys     *keys.Manager
	Tokens   *keys.Tokens
	Accounts *provider.Accounts
	Policy   *provider.DomainPolicy
	MFA      *provider.MFA
	Passkeys *provider.Passkeys // nil: passkeys off
	// PasskeyDeps are what Passkeys was built from (a test builds another
	// over the same stores, with its own clock).
	PasskeyDeps provider.PasskeysDeps
	Secret      []byte // the key secret (signing keys, TOTP secrets)
}

// ephemeralStore is the session/revocation/rate backend of a testEnv.
type ephemeralStore interface {
	storage.SessionStore
	storage.RefreshStore
	storage.RevocationStore
	storage.MFAChallengeStore
	storage.PasskeyChallengeStore
	Rate() storage.RateStore
	Ping(ctx context.Context) error
}

// backendsUnderTest returns the store combinations HTTP tests run on:
// SQLite + in-process always, MySQL + Redis when the environment names
// them (CI does).
func backendsUnderTest(t *testing.T) []string {
	out := []string{"sqlite+memory"}
	if os.Getenv("USER_REGISTRY_TEST_MYSQL") != "" && os.Getenv("USER_REGISTRY_TEST_REDIS") != "" {
		out = append(out, "mysql+redis")
	}
	return out
}

// envOption adjusts the Config or the accounts config before the server is
// built.
type envOption func(*Config, *provider.AccountsConfig)

// newTestEnv builds the whole handler on the named backend ("sqlite+memory"
// or "mysql+redis") with cheap argon2 parameters, and starts an
// httptest.Server for it.
func newTestEnv(t testing.TB, backend string, opts ...envOption) *testEnv {
	t.Helper()
	return newTestEnvMail(t, backend, nil, opts...)
}

// newTestEnvMail is newTestEnv with a mailer: mail, when not nil, returns
// the mail links for the env's stores and issuer, through which Accounts
// sends the verification mail of a signup.
func newTestEnvMail(t testing.TB, backend string, mail func(env *testEnv, issuer string) *provider.MailLinks, opts ...envOption) *testEnv {
	t.Helper()
	return newTestEnvRP(t, backend, mail, testRP{ID: "localhost"}, opts...)
}

// testRP is the passkey configuration of a test server, as the flags give
// it: ID is --webauthn-rp-id, Origins --webauthn-origin (empty: the
// issuer's). The issuer is an IP address, so an empty ID turns passkeys
// off (SPEC §10).
type testRP struct {
	ID      string
	Origins []string
	// Localhost adds http://localhost:PORT (the test server's port) to
	// the origins: a browser reaches the server by that name, since an RP
	// ID must be a domain (TestBrowserPasskeys).
	Localhost bool
}

// newTestEnvRP is newTestEnvMail with the passkey configuration rp.
func newTestEnvRP(t testing.TB, backend string, mail func(env *testEnv, issuer string) *provider.MailLinks, rp testRP, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	env := &testEnv{}
	var dsn string
	switch backend {
	case "sqlite+memory":
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case "mysql+redis":
		dsn = freshTestDatabase(t)
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
	env.DB = db
	if backend == "mysql+redis" {
		prefix := make([]byte, 6)
		rand.Read(prefix)
		rs, err := redisstore.Open(ctx, redisstore.Options{URL: os.Getenv("USER_REGISTRY_TEST_REDIS"), Prefix: "urwebtest:" + hex.EncodeToString(prefix) + ":"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rs.Close() })
		env.Eph = rs
	} else {
		env.Eph = memstore.New()
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	env.Keys, err = keys.NewManager(db, keys.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	env.Server = httptest.NewUnstartedServer(nil)
	issuer := "http://" + env.Server.Listener.Addr().String()
	env.Tokens = keys.NewTokens(env.Keys, env.Eph, keys.TokenConfig{Issuer: issuer})
	env.Policy = provider.NewDomainPolicy(db, false, nil)
	acfg := provider.DefaultAccountsConfig(issuer)
	cfg := Config{
		Issuer: issuer, Keys: env.Keys, Tokens: env.Tokens, JWKSMaxAge: keys.DefaultJWKSMaxAge,
		DomainAdmin: &provider.DomainAdmin{Store: db, Policy: env.Policy}, Policy: env.Policy,
		Sessions: mustSessions(t, provider.SessionDeps{Store: env.Eph, Revocations: env.Eph, Users: db}),
		Ready:    map[string]Pinger{"database": db, "sessions": env.Eph},
	}
	for _, o := range opts {
		o(&cfg, &acfg)
	}
	deps := testAccountDeps(db, env.Policy, env.Tokens, env.Eph, acfg)
	deps.Audit = cfg.Audit // withAudit (audit_env_test.go)
	if mail != nil {
		deps.Verification = mail(env, issuer)
	}
	env.Accounts, err = provider.NewAccounts(deps)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Accounts = env.Accounts
	env.Secret = secret
	mfaDeps := provider.MFADeps{
		Accounts: env.Accounts, Store: db, Challenges: env.Eph, Secret: secret, Issuer: "registry.test", Audit: cfg.Audit,
	}
	if rp.Localhost {
		_, port, _ := net.SplitHostPort(env.Server.Listener.Addr().String())
		rp.Origins = append(rp.Origins, "http://localhost:"+port)
	}
	rpID, origins, off := provider.PasskeyRPID(issuer, rp.ID, rp.Origins)
	if off == "" {
		mfaDeps.Passkeys = provider.PasskeyRecords{Store: db}
	}
	env.MFA, err = provider.NewMFA(mfaDeps)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MFA = env.MFA
	if off == "" {
		env.PasskeyDeps = provider.PasskeysDeps{
			Accounts: env.Accounts, MFA: env.MFA, Store: db, Challenges: env.Eph,
			RPID: rpID, Origins: origins, RPName: "registry.test", Audit: cfg.Audit,
		}
		env.Passkeys, err = provider.NewPasskeys(env.PasskeyDeps)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Passkeys = env.Passkeys
	}
	if cfg.Clients != nil && cfg.CodeFlow == nil { // the code flow needs clients (oauth_flow_test.go)
		cfg.CodeFlow, err = provider.NewCodeFlow(provider.CodeFlowDeps{
			Accounts: env.Accounts, Clients: cfg.Clients, Store: env.Eph, Revocations: env.Eph, IDs: env.Tokens, Policy: env.Policy,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	env.Config = cfg
	env.Handler = New(cfg)
	env.Server.Config.Handler = env.Handler
	env.Server.Start()
	t.Cleanup(env.Server.Close)
	return env
}

// envLimiter builds a rate limiter for an option (limitIP, withClients)
// over the rate store of the test server being built: its ephemeral store,
// which newTestEnv registers as the "sessions" backend of /readyz, so the
// limits count in Redis on the mysql+redis backend as in production.
func envLimiter(c *Config, spec string) *provider.RateLimiter {
	var store storage.RateStore
	if eph, ok := c.Ready["sessions"].(ephemeralStore); ok {
		store = eph.Rate()
	}
	rl, err := provider.NewRateLimiter(store, spec)
	if err != nil {
		panic(fmt.Sprintf("test rate limit %q: %v", spec, err))
	}
	return rl
}

// testAccountDeps are the dependencies of a test server's Accounts, with
// cheap argon2 parameters.
func testAccountDeps(users storage.UserStore, policy *provider.DomainPolicy, tokens *keys.Tokens, eph ephemeralStore,
	cfg provider.AccountsConfig) provider.AccountDeps {
	return provider.AccountDeps{
		Users: users, Policy: policy, Tokens: tokens, Refresh: eph, Revocations: eph, Rate: eph.Rate(), Consents: eph,
		Hasher: provider.NewHasher(provider.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0),
		Config: cfg,
	}
}

// mustSessions builds the browser-session service of a test server.
func mustSessions(tb testing.TB, d provider.SessionDeps) *provider.Sessions {
	tb.Helper()
	s, err := provider.NewSessions(d)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// freshTestDatabase creates a MySQL database of the test's own (dropped at
// cleanup) and returns its DSN.
func freshTestDatabase(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(os.Getenv("USER_REGISTRY_TEST_MYSQL"))
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	admin, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", u.User.Username(), pass, u.Host))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "ur_web_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE " + name)
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}

func TestEnvBuilds(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			env := newTestEnv(t, b)
			resp, err := http.Get(env.Server.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("/readyz = %d", resp.StatusCode)
			}
		})
	}
}
