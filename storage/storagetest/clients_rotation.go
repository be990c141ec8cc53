package storagetest

import (
	"testing"
	"time"

	"user-registry/storage"
)

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
