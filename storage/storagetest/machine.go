package storagetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// testClientKeys: a private_key_jwt client keeps its inline JWK Set byte
// for byte, or its JWKS URI, and has no secret (SPEC §11).
func testClientKeys(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	jwks := []byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)
	clients := []storage.Client{
		{ID: "inline", Domain: "a.example", GrantTypes: []string{"client_credentials"}, JWKS: jwks, CreatedAt: now},
		{ID: "by-url", Domain: "a.example", GrantTypes: []string{"client_credentials"},
			JWKSURI: "https://ci.a.example/.well-known/jwks.json?v=1&x=%22", CreatedAt: now},
	}
	for i := range clients {
		c := clients[i]
		recErr(t, "create "+c.ID, s.Clients.CreateClient(ctx, &c), nil)
	}
	for _, want := range clients {
		got, err := s.Clients.Client(ctx, want.ID)
		recErr(t, "get "+want.ID, err, nil)
		recClient(t, want.ID, got, want)
		if len(got.SecretHash) != 0 {
			t.Errorf("%s: secret hash %x, want none", want.ID, got.SecretHash)
		}
	}
	list, err := s.Clients.ListClients(ctx, "a.example")
	recErr(t, "list", err, nil)
	for i, got := range list {
		recClient(t, "listed "+got.ID, got, clients[len(clients)-1-i])
	}
}

// testNonces: a key is used once while live, on every caller of the store
// (SEC-60, SEC-63), and is usable again only after its `until`.
func testNonces(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	steps := []struct {
		name    string
		advance time.Duration
		key     string
		until   time.Duration // after the start
		want    bool
	}{
		{"first use", 0, "assert:c1:j1", time.Minute, true},
		{"replay", 0, "assert:c1:j1", time.Minute, false},
		{"other key", 0, "assert:c1:j2", time.Minute, true},
		{"other namespace", 0, "dpop:c1:j1", time.Minute, true},
		{"replay with a later until", 0, "assert:c1:j1", time.Hour, false},
		{"just before until", time.Minute - time.Second, "assert:c1:j1", time.Hour, false},
		{"after until", 2 * time.Second, "assert:c1:j1", 2 * time.Hour, true},
		{"replay after reuse", 0, "assert:c1:j1", 2 * time.Hour, false},
	}
	for _, st := range steps {
		s.Clock.Advance(st.advance)
		got, err := s.Nonces.UseOnce(ctx, st.key, now.Add(st.until))
		ephErr(t, st.name, err, nil)
		if got != st.want {
			t.Fatalf("%s: UseOnce(%q) = %v, want %v", st.name, st.key, got, st.want)
		}
	}

	// Concurrent first uses: exactly one wins.
	const n = 16
	var wg sync.WaitGroup
	wins := make(chan bool, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := s.Nonces.UseOnce(ctx, "assert:race", s.Clock.Now().Add(time.Minute))
			if err != nil {
				t.Errorf("UseOnce: %v", err)
			}
			wins <- first
		}()
	}
	wg.Wait()
	close(wins)
	won := 0
	for w := range wins {
		if w {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent first uses won, want exactly 1", won, n)
	}
}

// testFederation: trusts are stored whole, listed in creation order and
// deleted by id.
func testFederation(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	trusts := []storage.Trust{
		{ID: "t2", Domain: "b.example", Issuer: "https://token.actions.githubusercontent.com",
			Subject: "repo:acme/*:ref:refs/heads/main", Audience: "https://registry.example",
			Scopes: []string{"deploy", "read"}, CreatedAt: now.Add(time.Second)},
		{ID: "t1", Domain: "a.example", Issuer: "https://kubernetes.default.svc",
			Subject: "system:serviceaccount:ci:*", CreatedAt: now},
	}
	for i := range trusts {
		tr := trusts[i]
		recErr(t, "create "+tr.ID, s.Federation.CreateTrust(ctx, &tr), nil)
	}
	dup := trusts[0]
	recErr(t, "create duplicate", s.Federation.CreateTrust(ctx, &dup), storage.ErrExists)

	list, err := s.Federation.ListTrusts(ctx)
	recErr(t, "list", err, nil)
	want := []storage.Trust{trusts[1], trusts[0]}
	if len(list) != len(want) {
		t.Fatalf("list = %+v, want %+v", list, want)
	}
	for i, got := range list {
		w := want[i]
		recTime(t, w.ID+".CreatedAt", got.CreatedAt, w.CreatedAt)
		if got.ID != w.ID || got.Domain != w.Domain || got.Issuer != w.Issuer || got.Subject != w.Subject ||
			got.Audience != w.Audience || !slices.Equal(got.Scopes, w.Scopes) {
			t.Errorf("trust %d:\n got  %+v\n want %+v", i, got, w)
		}
	}

	recErr(t, "delete", s.Federation.DeleteTrust(ctx, "t1"), nil)
	recErr(t, "delete again", s.Federation.DeleteTrust(ctx, "t1"), storage.ErrNotFound)
	recErr(t, "delete empty", s.Federation.DeleteTrust(ctx, ""), storage.ErrNotFound)
	list, err = s.Federation.ListTrusts(ctx)
	recErr(t, "list after delete", err, nil)
	if len(list) != 1 || list[0].ID != "t2" {
		t.Fatalf("after delete: %+v, want only t2", list)
	}
}
