package keys_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/storage/memstore"
)

func jwksKids(t *testing.T, m *keys.Manager) map[string]bool {
	t.Helper()
	body, _ := m.JWKS()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		out[k.Kid] = true
	}
	return out
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	return decodePart(t, tok, 0)["kid"].(string)
}

// TestRotationInvariant simulates two nodes over one store for hours of
// fake time with automatic, manual, racing and emergency rotations.
func TestRotationInvariant(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := memstore.New(memstore.WithClock(clk.Now))
	sec := secret(t)
	const maxAge = 10 * time.Minute
	cfg := keys.Config{Alg: "ES256", Secret: sec, Now: clk.Now, JWKSMaxAge: maxAge, TokenTTL: 10 * time.Minute, Rotation: 2 * time.Hour}
	var nodes [2]struct {
		m  *keys.Manager
		tk *keys.Tokens
	}
	for i := range nodes {
		m, err := keys.NewManager(store, cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i].m, nodes[i].tk = m, keys.NewTokens(m, store, keys.TokenConfig{Issuer: issuer, Now: clk.Now})
	}

	type snapshot struct {
		at   time.Time
		kids [2]map[string]bool
	}
	type minted struct {
		tok      string
		kid      string
		exp      time.Time
		node     int
		withdrew bool // withdrawn by the emergency rotation
	}
	var (
		history    []snapshot
		tokens     []*minted
		start      = clk.Now()
		emergencyK string
		kidsSeen   = map[string]bool{}
	)
	// cachedAt returns the JWKS a client fetched at or before instant at.
	cachedAt := func(at time.Time) *snapshot {
		for i := len(history) - 1; i >= 0; i-- {
			if !history[i].at.After(at) {
				return &history[i]
			}
		}
		return nil
	}

	const step = 15 * time.Second
	const steps = 6 * 60 * 4 // six hours
	for s := 0; s < steps; s++ {
		if s > 0 {
			clk.Advance(step)
		}
		now := clk.Now()
		for i := range nodes {
			if err := nodes[i].m.Tick(ctx); err != nil {
				t.Fatalf("step %d node %d tick: %v", s, i, err)
			}
		}
		switch s {
		case 100: // manual rotation on one node
			if err := nodes[1].m.Rotate(ctx, false); err != nil {
				t.Fatal(err)
			}
		case 300: // both nodes rotate at once: one generation wins
			for i := range nodes {
				if err := nodes[i].m.Rotate(ctx, false); err != nil {
					t.Fatalf("racing rotate: %v", err)
				}
			}
		case 16 * 60: // hour four: a key leaked
			if err := nodes[0].m.Rotate(ctx, true); err != nil {
				t.Fatal(err)
			}
			emergencyK = kidOf(t, mustMint(t, nodes[0].tk))
			for _, tk := range tokens {
				if tk.kid != emergencyK {
					tk.withdrew = true
				}
			}
			// Node 1 has not reloaded yet; an unknown kid makes it reload.
			if _, err := nodes[1].tk.VerifyAccess(ctx, mustMint(t, nodes[0].tk), ""); err != nil {
				t.Fatalf("node 1 does not learn the emergency key: %v", err)
			}
		}
		history = append(history, snapshot{at: now, kids: [2]map[string]bool{jwksKids(t, nodes[0].m), jwksKids(t, nodes[1].m)}})

		for i := range nodes {
			tok := mustMint(t, nodes[i].tk)
			kid := kidOf(t, tok)
			kidsSeen[kid] = true
			tokens = append(tokens, &minted{tok: tok, kid: kid, exp: now.Add(10 * time.Minute), node: i})
			// SEC-9: a client that cached either node's JWKS up to
			// max-age ago already knows the signing key.
			if now.Sub(start) >= maxAge && kid != emergencyK {
				snap := cachedAt(now.Add(-maxAge))
				if !snap.kids[0][kid] || !snap.kids[1][kid] {
					t.Fatalf("step %d: node %d signed with %s, not in the JWKS of %v", s, i, kid, snap.at)
				}
			}
		}

		if s%5 == 0 {
			live := tokens[:0]
			for _, tk := range tokens {
				if !now.Before(tk.exp.Add(keys.Skew)) {
					continue
				}
				live = append(live, tk)
				for i := range nodes {
					_, err := nodes[i].tk.VerifyAccess(ctx, tk.tok, "")
					if tk.withdrew && !errors.Is(err, keys.ErrInvalidToken) {
						t.Fatalf("step %d: token of withdrawn key %s still verifies on node %d", s, tk.kid, i)
					}
					if !tk.withdrew && err != nil {
						t.Fatalf("step %d: node %d rejects live token of %s (minted by %d): %v", s, i, tk.kid, tk.node, err)
					}
				}
			}
			tokens = live
		}
	}
	// Rotations: manual, racing pair (one key), ~2-hourly automatic ones, emergency.
	if len(kidsSeen) < 5 {
		t.Fatalf("only %d keys signed over six hours", len(kidsSeen))
	}
	infos, err := nodes[0].m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, in := range infos {
		if in.State == keys.StateActive {
			active++
		}
		if in.State == keys.StateWithdrawn {
			t.Errorf("withdrawn key %s not deleted", in.KID)
		}
	}
	if active != 1 {
		t.Fatalf("%d active keys: %+v", active, infos)
	}
}

func mustMint(t *testing.T, tk *keys.Tokens) string {
	t.Helper()
	tok, _ := mint(t, tk, userClaims())
	return tok
}

func TestRotateLifecycleStates(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	first := keys.SigningKID(e.m)
	if err := e.m.Rotate(ctx, false); err != nil {
		t.Fatal(err)
	}
	infos, _ := e.m.List(ctx)
	if len(infos) != 2 || infos[0].State != keys.StateActive || infos[1].State != keys.StateNext {
		t.Fatalf("after rotate: %+v", infos)
	}
	if !jwksKids(t, e.m)[infos[1].KID] {
		t.Fatal("next key is not pre-published")
	}
	// Not signing with the new key before JWKSMaxAge has passed.
	e.clk.Advance(keys.DefaultJWKSMaxAge - time.Second)
	if kidOf(t, mustMint(t, e.tokens)) != first {
		t.Fatal("new key signs before JWKSMaxAge")
	}
	e.clk.Advance(time.Minute)
	old, _ := mint(t, e.tokens, userClaims())
	if kidOf(t, old) != infos[1].KID {
		t.Fatalf("new key not active after pre-publication: %v", kidOf(t, old))
	}
	infos, _ = e.m.List(ctx)
	if infos[0].State != keys.StateRetired || infos[0].WithdrawAt.IsZero() {
		t.Fatalf("old key: %+v", infos[0])
	}
	e.clk.Advance(keys.DefaultTokenTTL + keys.Skew)
	if jwksKids(t, e.m)[first] {
		t.Fatal("retired key still published after its last token expired")
	}
	if err := e.m.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if infos, _ = e.m.List(ctx); len(infos) != 1 {
		t.Fatalf("withdrawn key not deleted: %+v", infos)
	}
}

func TestEmergencyRotation(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	old, _ := mint(t, e.tokens, userClaims())
	if err := e.m.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tokens.VerifyAccess(ctx, old, ""); !errors.Is(err, keys.ErrInvalidToken) {
		t.Fatalf("token of a leaked key still verifies: %v", err)
	}
	fresh, _ := mint(t, e.tokens, userClaims())
	if kidOf(t, fresh) == kidOf(t, old) {
		t.Fatal("emergency key does not sign at once")
	}
	if len(jwksKids(t, e.m)) != 1 {
		t.Fatal("old key still published")
	}
}
