package keys_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/storage"
	"user-registry/storage/memstore"
	"user-registry/storage/sqlstore"
)

// TestTwoProcessesOneSQLiteFile runs the rotation rules over the real SQL
// backend: two managers, each with its own connection to one database file
// (as two `serve` processes would have), agree on the keys without talking
// to each other. A key rotated in by node A is in node B's JWKS for the
// whole pre-publication period before A signs with it, and tokens of either
// node verify on both.
func TestTwoProcessesOneSQLiteFile(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "keys.db")
	sec := secret(t)
	rev := memstore.New(memstore.WithClock(clk.Now))
	node := func() (*keys.Manager, *keys.Tokens) {
		db, err := sqlstore.Open(ctx, "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		m, err := keys.NewManager(db, keys.Config{Secret: sec, Now: clk.Now, JWKSMaxAge: 10 * time.Minute, TokenTTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		return m, keys.NewTokens(m, rev, keys.TokenConfig{Issuer: issuer, Now: clk.Now, AccessTTL: time.Hour})
	}
	ma, ta := node()
	mb, tb := node()
	first := kidOf(t, mustMint(t, ta))
	if kidOf(t, mustMint(t, tb)) != first {
		t.Fatal("two nodes on a fresh database sign with different keys")
	}

	if err := ma.Rotate(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := mb.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	var next string
	for kid := range jwksKids(t, mb) {
		if kid != first {
			next = kid
		}
	}
	if next == "" {
		t.Fatal("node B does not publish the key node A rotated in")
	}
	old := mustMint(t, ta)
	if kidOf(t, old) != first {
		t.Fatal("node A signs with the new key before its pre-publication period")
	}
	// Past the pre-publication period (plus propagation) both sign with the
	// new key; the old key's tokens still verify on both nodes.
	clk.Advance(11 * time.Minute)
	for _, m := range []*keys.Manager{ma, mb} {
		if err := m.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for name, tk := range map[string]*keys.Tokens{"A": ta, "B": tb} {
		if got := kidOf(t, mustMint(t, tk)); got != next {
			t.Fatalf("node %s signs with %s, want the rotated key %s", name, got, next)
		}
		if _, err := tk.VerifyAccess(ctx, old, ""); err != nil {
			t.Fatalf("node %s no longer verifies an unexpired token of the retired key: %v", name, err)
		}
	}
}

// staleFirstList answers its first ListKeys with no rows: the node listed
// the keys just before another node inserted the first one.
type staleFirstList struct {
	*memstore.Store
	listed bool
}

func (s *staleFirstList) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	if !s.listed {
		s.listed = true
		return nil, nil
	}
	return s.Store.ListKeys(ctx)
}

// TestEnsureLosesFirstKeyRace: two nodes starting on a fresh database both
// see no key and both create generation 1; the loser must start with the
// winner's key, not fail.
func TestEnsureLosesFirstKeyRace(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := memstore.New(memstore.WithClock(clk.Now))
	sec := secret(t)
	_, ta := newNode(t, store, clk, "ES256", sec)
	mb, err := keys.NewManager(&staleFirstList{Store: store}, keys.Config{Secret: sec, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.Ensure(ctx); err != nil {
		t.Fatalf("second node's Ensure: %v", err)
	}
	tb := keys.NewTokens(mb, store, keys.TokenConfig{Issuer: issuer, Now: clk.Now})
	if a, b := kidOf(t, mustMint(t, ta)), kidOf(t, mustMint(t, tb)); a != b {
		t.Fatalf("nodes sign with %s and %s", a, b)
	}
}
