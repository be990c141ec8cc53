package memstore

import (
	"fmt"
	"testing"
	"time"

	"user-registry/storage"
	"user-registry/storage/storagetest"
)

// TestSweepBoundsMemory checks that expired items are dropped from the maps,
// not merely hidden, once the sweep interval has passed.
func TestSweepBoundsMemory(t *testing.T) {
	clock := storagetest.NewClock()
	s := New(WithClock(clock.Now))
	ctx := t.Context()
	exp := clock.Now().Add(time.Minute)
	for i := range 50 {
		id := fmt.Sprint(i)
		_ = s.CreateSession(ctx, storage.Session{ID: id, ExpiresAt: exp})
		_ = s.SaveCode(ctx, storage.AuthCode{Hash: id, ExpiresAt: exp})
		_ = s.SaveConsent(ctx, storage.Consent{UserID: id, ClientID: "c", ExpiresAt: exp})
		_ = s.SaveOneTimeToken(ctx, storage.OneTimeToken{Hash: id, ExpiresAt: exp})
		_ = s.CreateRefresh(ctx, storage.RefreshToken{Hash: id, FamilyID: id, ExpiresAt: exp, FamilyExpiresAt: exp})
		_ = s.Revoke(ctx, id, exp)
		_ = s.SetNotBefore(ctx, id, clock.Now(), exp, "")
	}
	clock.Advance(sweepEvery + time.Minute)
	_ = s.CreateSession(ctx, storage.Session{ID: "fresh", ExpiresAt: clock.Now().Add(time.Hour)})

	s.mu.Lock()
	defer s.mu.Unlock()
	sizes := map[string]int{
		"sessions": len(s.sessions) - 1, "codes": len(s.codes), "consents": len(s.consents),
		"one-time": len(s.oneTime), "families": len(s.families), "revoked": len(s.revoked),
		"not-before": len(s.notBefore),
	}
	for name, n := range sizes {
		if n != 0 {
			t.Errorf("%s: %d expired items left after sweep", name, n)
		}
	}
}

// TestCopies checks callers can't change stored records through slices
// they passed in or got back.
func TestCopies(t *testing.T) {
	s := New()
	ctx := t.Context()
	c := storage.Client{ID: "c1", Scopes: []string{"openid"}, RedirectURIs: []string{"https://a.example/cb"}}
	if err := s.CreateClient(ctx, &c); err != nil {
		t.Fatal(err)
	}
	c.Scopes[0] = "admin"
	got, _ := s.Client(ctx, "c1")
	got.RedirectURIs[0] = "https://evil.example/cb"
	again, _ := s.Client(ctx, "c1")
	if again.Scopes[0] != "openid" || again.RedirectURIs[0] != "https://a.example/cb" {
		t.Fatalf("stored client changed through a caller's slice: %+v", again)
	}

	k := storage.SigningKey{KID: "k1", Generation: 1, Public: []byte("pub")}
	if err := s.CreateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	k.Public[0] = 'X'
	keys, _ := s.ListKeys(ctx)
	keys[0].Public[1] = 'Y'
	keys, _ = s.ListKeys(ctx)
	if string(keys[0].Public) != "pub" {
		t.Fatalf("stored key changed through a caller's slice: %q", keys[0].Public)
	}
}

// TestNonceSweepBoundsMemory: single-use keys go once expired, and the set
// does not hold more than about twice its live keys under a steady load.
func TestNonceSweepBoundsMemory(t *testing.T) {
	clock := storagetest.NewClock()
	s := New(WithClock(clock.Now))
	ctx := t.Context()
	const live = 5000
	for i := range 10 * live {
		// Each key lives for `live` writes of one second each.
		first, err := s.UseOnce(ctx, fmt.Sprint("k", i), clock.Now().Add(live*time.Second))
		if err != nil || !first {
			t.Fatalf("key %d: first use refused: %v", i, err)
		}
		clock.Advance(time.Second)
	}
	if n := s.nonces.size(); n > 2*live+sweepWrites {
		t.Fatalf("%d entries held for %d live keys", n, live)
	}
	// The newest key is still live and refused again.
	if first, _ := s.UseOnce(ctx, fmt.Sprint("k", 10*live-1), clock.Now().Add(time.Minute)); first {
		t.Fatal("a live key was accepted twice")
	}
}
