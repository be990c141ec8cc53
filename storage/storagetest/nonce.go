package storagetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/storage"
)

// testNonces: a key is accepted once until its expiry, on every node that
// shares the store (the proof and assertion jti replay check, SEC-60/63).
func testNonces(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	use := func(what, key string, until time.Time, want bool) {
		t.Helper()
		got, err := s.Nonces.UseOnce(ctx, key, until)
		if err != nil {
			t.Fatalf("%s: UseOnce(%q): %v", what, key, err)
		}
		if got != want {
			t.Fatalf("%s: UseOnce(%q) = %v, want %v", what, key, got, want)
		}
	}
	use("first use", "dpop:k1:j1", now.Add(time.Minute), true)
	use("replay", "dpop:k1:j1", now.Add(time.Minute), false)
	use("replay with a later until", "dpop:k1:j1", now.Add(time.Hour), false)
	use("another key", "dpop:k1:j2", now.Add(time.Minute), true)
	use("keys are exact", "DPOP:K1:J1", now.Add(time.Minute), true)

	s.Clock.Advance(time.Minute - time.Millisecond)
	use("just before until", "dpop:k1:j1", s.Clock.Now().Add(time.Minute), false)
	s.Clock.Advance(time.Millisecond)
	// At until the entry is gone: the caller's own window (iat) refuses
	// such old values, and the store need not keep them.
	use("at until", "dpop:k1:j1", s.Clock.Now().Add(time.Minute), true)
	use("recorded again", "dpop:k1:j1", s.Clock.Now().Add(time.Minute), false)

	// Of concurrent uses of one key exactly one is first.
	const workers = 16
	var firsts atomic.Int32
	var wg sync.WaitGroup
	until := s.Clock.Now().Add(time.Minute)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.Nonces.UseOnce(ctx, "race", until)
			if err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
			if ok {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Fatalf("%d concurrent first uses, want exactly 1", n)
	}
	for i := range 3 {
		use("distinct keys", fmt.Sprintf("k-%d", i), until, true)
	}
}

// testClientSecretRotation: a rotation keeps the replaced hash with its
// expiry, in one write; a second rotation replaces the previous one.
func testClientSecretRotation(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now().UTC().Truncate(time.Second)
	c := testRotClient(now)
	recErr(t, "create", s.Clients.CreateClient(ctx, &c), nil)

	exp1 := now.Add(24 * time.Hour)
	recErr(t, "rotate", s.Clients.RotateClientSecret(ctx, c.ID, []byte("second"), exp1), nil)
	want := c
	want.SecretHash, want.PrevSecretHash, want.PrevSecretExpiresAt = []byte("second"), []byte("first"), exp1
	got, err := s.Clients.Client(ctx, c.ID)
	recErr(t, "get", err, nil)
	recClient(t, "after one rotation", got, want)

	exp2 := now.Add(time.Hour)
	recErr(t, "rotate again", s.Clients.RotateClientSecret(ctx, c.ID, []byte("third"), exp2), nil)
	want.SecretHash, want.PrevSecretHash, want.PrevSecretExpiresAt = []byte("third"), []byte("second"), exp2
	got, err = s.Clients.Client(ctx, c.ID)
	recErr(t, "get", err, nil)
	recClient(t, "after two rotations", got, want)

	recErr(t, "rotate unknown", s.Clients.RotateClientSecret(ctx, "nobody", []byte("x"), exp1), storage.ErrNotFound)
}

func testRotClient(now time.Time) storage.Client {
	return storage.Client{ID: "rot", SecretHash: []byte("first"), Domain: "r.example", Name: "rotating",
		GrantTypes: []string{"client_credentials"}, CreatedAt: now}
}
