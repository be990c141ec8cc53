package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// countingMinter signs nothing: these tests are about delivery, the
// token's content is checked in keys and web.
type countingMinter struct{ n atomic.Int32 }

func (m *countingMinter) MintLogout(_ context.Context, c keys.LogoutClaims) (string, keys.LogoutClaims, error) {
	m.n.Add(1)
	c.ExpiresAt = time.Now().Add(keys.LogoutTokenTTL)
	return "header.payload.sig", c, nil
}

// TestBackchannelDeliveryRules: only a 200 or 204 from the registered URI
// delivers; a redirect (even to the same host) is a failed attempt and is
// not followed, so another host is never called; a plain-http URI to a
// host that is not loopback is never called; an item past its deadline is
// dropped after its last failure.
func TestBackchannelDeliveryRules(t *testing.T) {
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHits.Add(1) }))
	defer other.Close()
	var mu sync.Mutex
	hits := map[string]int{}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
			r.PostFormValue("logout_token") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusOK)
		case "/no-content":
			w.WriteHeader(http.StatusNoContent)
		case "/away":
			http.Redirect(w, r, other.URL+"/bc", http.StatusTemporaryRedirect)
		case "/here":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/accepted":
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer app.Close()

	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := memstore.New(memstore.WithClock(clock))
	minter := &countingMinter{}
	bc, err := provider.NewBackchannel(provider.BackchannelDeps{Store: store, Tokens: minter, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		uri       string
		delivered bool
	}{
		{app.URL + "/ok", true},
		{app.URL + "/no-content", true},
		{app.URL + "/away", false},
		{app.URL + "/here", false},
		{app.URL + "/accepted", false},
		{"http://registry-test.invalid/bc", false},
	}
	for i, c := range cases {
		d := storage.LogoutDelivery{ID: c.uri, ClientID: "app", URI: c.uri, SID: "sid", Subject: "u", JTI: "j",
			NextAt: now, Deadline: now.Add(24 * time.Hour)}
		if i == len(cases)-1 {
			d.Deadline = now.Add(time.Second) // its first retry would be past it
		}
		if err := store.EnqueueLogout(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := bc.DeliverDue(ctx); err != nil || n != len(cases) {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	left, err := store.ClaimLogouts(ctx, now.Add(48*time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	queued := map[string]storage.LogoutDelivery{}
	for _, d := range left {
		queued[d.ID] = d
	}
	for i, c := range cases {
		d, still := queued[c.uri]
		switch {
		case c.delivered && still:
			t.Errorf("%s: still queued after a success", c.uri)
		case i == len(cases)-1 && still:
			t.Errorf("%s: kept past its deadline", c.uri)
		case !c.delivered && i < len(cases)-1 && (!still || d.Attempts != 1):
			t.Errorf("%s: want rescheduled after one failed attempt, got %+v (queued %v)", c.uri, d, still)
		}
	}
	if otherHits.Load() != 0 {
		t.Errorf("a redirect to another host was followed")
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/ok"] != 1 {
		t.Errorf("a redirect to the same host was followed: /ok hit %d times", hits["/ok"])
	}
	if int(minter.n.Load()) != len(cases) {
		t.Errorf("signed %d tokens for %d deliveries", minter.n.Load(), len(cases))
	}
}
