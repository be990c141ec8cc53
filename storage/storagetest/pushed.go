package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// testPushedRequests: a pushed authorization request (RFC 9126) is read
// and taken only by the client that pushed it, taken once, and gone at
// its expiry (SEC-68).
func testPushedRequests(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	r := storage.PushedRequest{Hash: "par-hash-1", ClientID: "client-a",
		Query: "client_id=client-a&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=%22x%22", ExpiresAt: now.Add(time.Minute)}
	ephErr(t, "SavePushedRequest", s.Sessions.SavePushedRequest(ctx, r), nil)

	_, err := s.Sessions.PushedRequest(ctx, r.Hash, "client-b")
	ephErr(t, "peek by another client", err, storage.ErrNotFound)
	_, err = s.Sessions.TakePushedRequest(ctx, r.Hash, "client-b")
	ephErr(t, "take by another client", err, storage.ErrNotFound)
	_, err = s.Sessions.TakePushedRequest(ctx, "par-unknown", "client-a")
	ephErr(t, "take unknown", err, storage.ErrNotFound)

	got, err := s.Sessions.PushedRequest(ctx, r.Hash, "client-a")
	ephErr(t, "peek", err, nil)
	ephSame(t, "peek", got, r)
	got, err = s.Sessions.TakePushedRequest(ctx, r.Hash, "client-a") // still there after the peek and the refusals
	ephErr(t, "take", err, nil)
	ephSame(t, "take", got, r)
	_, err = s.Sessions.TakePushedRequest(ctx, r.Hash, "client-a")
	ephErr(t, "second take", err, storage.ErrNotFound)
	_, err = s.Sessions.PushedRequest(ctx, r.Hash, "client-a")
	ephErr(t, "peek after take", err, storage.ErrNotFound)

	old := storage.PushedRequest{Hash: "par-hash-2", ClientID: "client-a", Query: "x=1", ExpiresAt: now.Add(time.Minute)}
	ephErr(t, "SavePushedRequest", s.Sessions.SavePushedRequest(ctx, old), nil)
	s.Clock.Advance(time.Minute)
	_, err = s.Sessions.PushedRequest(ctx, old.Hash, "client-a")
	ephErr(t, "peek expired", err, storage.ErrNotFound)
	_, err = s.Sessions.TakePushedRequest(ctx, old.Hash, "client-a")
	ephErr(t, "take expired", err, storage.ErrNotFound)
}

// testPushedConcurrent: of concurrent takes of one request exactly one
// succeeds.
func testPushedConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	r := storage.PushedRequest{Hash: "par-race", ClientID: "c", Query: "a=b", ExpiresAt: s.Clock.Now().Add(time.Minute)}
	ephErr(t, "SavePushedRequest", s.Sessions.SavePushedRequest(ctx, r), nil)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Sessions.TakePushedRequest(ctx, r.Hash, r.ClientID)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, storage.ErrNotFound):
		default:
			t.Errorf("TakePushedRequest: unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent TakePushedRequest calls succeeded, want exactly 1", ok, n)
	}
}
