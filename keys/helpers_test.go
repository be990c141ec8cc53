package keys_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/storage/memstore"
)

const issuer = "https://id.example.test"

// clock is a fake, settable clock shared by stores, managers and tokens.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func secret(t testing.TB) []byte {
	t.Helper()
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// env is one node: a Manager and Tokens over a shared memstore.
type env struct {
	clk    *clock
	store  *memstore.Store
	m      *keys.Manager
	tokens *keys.Tokens
}

func newEnv(t testing.TB, alg string) *env {
	t.Helper()
	clk := newClock()
	store := memstore.New(memstore.WithClock(clk.Now))
	e := &env{clk: clk, store: store}
	e.m, e.tokens = newNode(t, store, clk, alg, secret(t))
	return e
}

func newNode(t testing.TB, store *memstore.Store, clk *clock, alg string, sec []byte) (*keys.Manager, *keys.Tokens) {
	t.Helper()
	m, err := keys.NewManager(store, keys.Config{Alg: alg, Secret: sec, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, keys.NewTokens(m, store, keys.TokenConfig{Issuer: issuer, Now: clk.Now})
}

func boolp(b bool) *bool { return &b }

func userClaims() keys.AccessClaims {
	return keys.AccessClaims{
		Subject: "3f1c1a4e-0000-4000-8000-000000000001", Audience: []string{"api"}, ClientID: "user-registry",
		Scope: "openid email phone", Email: "ann@example.com", Domain: "example.com",
		IsActivated: boolp(true), SID: "fam-1",
	}
}

func mint(t testing.TB, tk *keys.Tokens, c keys.AccessClaims) (string, keys.AccessClaims) {
	t.Helper()
	tok, got, err := tk.MintAccess(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok, got
}
