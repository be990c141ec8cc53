package provider_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/common"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

const acctIssuer = "https://id.example.test"

// acctClock is a settable fake clock shared by stores, tokens and Accounts.
type acctClock struct {
	mu  sync.Mutex
	now time.Time
}

func newAcctClock() *acctClock {
	return &acctClock{now: time.Date(2031, 3, 4, 5, 6, 7, 250_000_000, time.UTC)}
}

func (c *acctClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *acctClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Sleep advances the clock instead of waiting (injected as Accounts' Sleep).
func (c *acctClock) Sleep(_ context.Context, d time.Duration) error {
	if d > 0 {
		c.Advance(d)
	}
	return nil
}

// clockRate is a limiter.Store over the fake clock: the limiter library's
// own stores count with the wall clock, so window expiry could not be
// tested by advancing a fake one. Fixed windows, like the library's.
type clockRate struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*rateEntry
}

type rateEntry struct {
	count int64
	exp   time.Time
}

func newClockRate(now func() time.Time) *clockRate {
	return &clockRate{now: now, m: map[string]*rateEntry{}}
}

func (s *clockRate) entry(key string, rate limiter.Rate) *rateEntry {
	now := s.now()
	e := s.m[key]
	if e == nil || !now.Before(e.exp) {
		e = &rateEntry{exp: now.Add(rate.Period)}
		s.m[key] = e
	}
	return e
}

func (s *clockRate) Get(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	return s.Increment(ctx, key, 1, rate)
}

func (s *clockRate) Peek(_ context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entry(key, rate)
	return common.GetContextFromState(s.now(), rate, e.exp, e.count), nil
}

func (s *clockRate) Reset(_ context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	e := s.entry(key, rate)
	return common.GetContextFromState(s.now(), rate, e.exp, 0), nil
}

func (s *clockRate) Increment(_ context.Context, key string, n int64, rate limiter.Rate) (limiter.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entry(key, rate)
	e.count += n
	return common.GetContextFromState(s.now(), rate, e.exp, e.count), nil
}

// cheapArgon2 keeps tests fast; the benchmark uses the defaults.
var cheapArgon2 = provider.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// acctEnv is one Accounts over a memstore, real token service, fake clock.
type acctEnv struct {
	clk    *acctClock
	store  *memstore.Store
	tokens *keys.Tokens
	hasher *provider.Hasher
	acc    *provider.Accounts
	policy *provider.DomainPolicy
}

type envOpt func(*provider.AccountsConfig)

func newAcctEnv(t testing.TB, opts ...envOpt) *acctEnv {
	t.Helper()
	return newAcctEnvParams(t, cheapArgon2, opts...)
}

func newAcctEnvParams(t testing.TB, params provider.Argon2Params, opts ...envOpt) *acctEnv {
	t.Helper()
	return newAcctEnvUsers(t, params, nil, opts...)
}

// newAcctEnvUsers is newAcctEnvParams with the Accounts' user store
// wrapped by wrap (nil: the memstore itself), for tests that step between
// its calls.
func newAcctEnvUsers(t testing.TB, params provider.Argon2Params, wrap func(storage.UserStore) storage.UserStore, opts ...envOpt) *acctEnv {
	t.Helper()
	ctx := context.Background()
	clk := newAcctClock()
	store := memstore.New(memstore.WithClock(clk.Now))
	sec := make([]byte, 32)
	if _, err := rand.Read(sec); err != nil {
		t.Fatal(err)
	}
	m, err := keys.NewManager(store, keys.Config{Secret: sec, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	tokens := keys.NewTokens(m, store, keys.TokenConfig{Issuer: acctIssuer, Now: clk.Now})
	if err := store.PutDomain(ctx, storage.DomainRecord{Domain: "evil.com", BelongsTo: storage.DomainBlocked}); err != nil {
		t.Fatal(err)
	}
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.Sleep = clk.Sleep
	for _, o := range opts {
		o(&cfg)
	}
	e := &acctEnv{clk: clk, store: store, tokens: tokens, hasher: provider.NewHasher(params, 0),
		policy: provider.NewDomainPolicy(store, false, clk.Now)}
	deps := e.deps(cfg)
	if wrap != nil {
		deps.Users = wrap(store)
	}
	acc, err := provider.NewAccounts(deps)
	if err != nil {
		t.Fatal(err)
	}
	e.acc = acc
	return e
}

// deps returns the dependencies of an Accounts over e's stores and clock
// with configuration cfg and a rate store of its own, for tests that
// build a variant (a failing store, a log to inspect).
func (e *acctEnv) deps(cfg provider.AccountsConfig) provider.AccountDeps {
	return provider.AccountDeps{
		Users: e.store, Policy: e.policy, Hasher: e.hasher, Tokens: e.tokens, Refresh: e.store,
		Revocations: e.store, Rate: newClockRate(e.clk.Now), Consents: e.store, Config: cfg, Now: e.clk.Now,
	}
}

func acctStr(s string) *string { return &s }

func acctBool(b bool) *bool { return &b }

// signup creates a user or fails the test.
func (e *acctEnv) signup(t testing.TB, email, pw string) storage.User {
	t.Helper()
	u, err := e.acc.Signup(context.Background(), provider.SignupInput{Email: email, Password: pw})
	if err != nil {
		t.Fatalf("signup %s: %v", email, err)
	}
	return u
}

// login logs in or fails the test.
func (e *acctEnv) login(t testing.TB, email, pw string) provider.TokenPair {
	t.Helper()
	p, err := e.acc.Login(context.Background(), email, pw)
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return p
}
