package storagetest

import (
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

func testLogout(t *testing.T, s Stores) {
	t.Run("sessions", func(t *testing.T) { testLogoutSessions(t, s) })
	t.Run("take-once", func(t *testing.T) { testLogoutTakeOnce(t, s) })
	t.Run("queue", func(t *testing.T) { testLogoutQueue(t, s) })
	t.Run("claim-concurrent", func(t *testing.T) { testLogoutClaimConcurrent(t, s) })
}

func testLogoutSessions(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	a := storage.SessionRef{SID: "sid-a", UserID: "u1", CreatedAt: now, Keep: now.Add(time.Hour)}
	b := storage.SessionRef{SID: "sid-b", UserID: "u1", CreatedAt: now, Keep: now.Add(3 * time.Hour)}
	other := storage.SessionRef{SID: "sid-c", UserID: "u2", CreatedAt: now, Keep: now.Add(time.Hour)}
	for _, r := range []storage.SessionRef{a, b, other} {
		ephErr(t, "TrackSession", s.Logout.TrackSession(ctx, r), nil)
	}
	got, err := s.Logout.UserSessions(ctx, "u1")
	ephErr(t, "UserSessions", err, nil)
	sort.Slice(got, func(i, j int) bool { return got[i].SID < got[j].SID })
	ephSame(t, "UserSessions", got, []storage.SessionRef{a, b})

	c1 := storage.SessionClient{ClientID: "app1", FamilyID: "fam-1"}
	c2 := storage.SessionClient{ClientID: "app2", FamilyID: "fam-2"}
	for _, c := range []storage.SessionClient{c1, c2, c1} {
		ephErr(t, "AddSessionClient", s.Logout.AddSessionClient(ctx, a, c), nil)
	}
	r, err := s.Logout.FamilySession(ctx, "fam-2")
	ephErr(t, "FamilySession", err, nil)
	ephSame(t, "FamilySession", r, a)
	_, err = s.Logout.FamilySession(ctx, "fam-unknown")
	ephErr(t, "unknown FamilySession", err, storage.ErrNotFound)

	clients, err := s.Logout.TakeSessionClients(ctx, a)
	ephErr(t, "TakeSessionClients", err, nil)
	sort.Slice(clients, func(i, j int) bool { return clients[i].ClientID < clients[j].ClientID })
	ephSame(t, "TakeSessionClients", clients, []storage.SessionClient{c1, c2})
	again, err := s.Logout.TakeSessionClients(ctx, a)
	ephErr(t, "second TakeSessionClients", err, nil)
	if len(again) != 0 {
		t.Fatalf("second TakeSessionClients = %v, want none", again)
	}
	got, err = s.Logout.UserSessions(ctx, "u1")
	ephErr(t, "UserSessions after take", err, nil)
	ephSame(t, "UserSessions after take", got, []storage.SessionRef{b})

	// Past Keep, a session and its family are forgotten.
	ephErr(t, "AddSessionClient b", s.Logout.AddSessionClient(ctx, b, storage.SessionClient{ClientID: "app3", FamilyID: "fam-3"}), nil)
	s.Clock.Advance(3*time.Hour + time.Second)
	got, err = s.Logout.UserSessions(ctx, "u1")
	ephErr(t, "UserSessions expired", err, nil)
	if len(got) != 0 {
		t.Fatalf("UserSessions after Keep = %v, want none", got)
	}
	_, err = s.Logout.FamilySession(ctx, "fam-3")
	ephErr(t, "expired FamilySession", err, storage.ErrNotFound)
}

// testLogoutTakeOnce: a session that ends on two nodes at once notifies
// its clients once.
func testLogoutTakeOnce(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	r := storage.SessionRef{SID: "sid-once", UserID: "u1", CreatedAt: now, Keep: now.Add(time.Hour)}
	ephErr(t, "AddSessionClient", s.Logout.AddSessionClient(ctx, r, storage.SessionClient{ClientID: "app", FamilyID: "f"}), nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs, err := s.Logout.TakeSessionClients(ctx, r)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			total += len(cs)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 1 {
		t.Fatalf("clients taken %d times, want 1", total)
	}
}

func testLogoutQueue(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	d := storage.LogoutDelivery{ID: "d1", ClientID: "app", URI: "https://app.example/bc", SID: "sid", Subject: "u1",
		JTI: "j1", Token: "tok", TokenExp: now.Add(2 * time.Minute), NextAt: now, Deadline: now.Add(24 * time.Hour)}
	later := d
	later.ID, later.NextAt = "d2", now.Add(time.Minute)
	ephErr(t, "EnqueueLogout", s.Logout.EnqueueLogout(ctx, d), nil)
	ephErr(t, "EnqueueLogout later", s.Logout.EnqueueLogout(ctx, later), nil)

	got, err := s.Logout.ClaimLogouts(ctx, now, 30*time.Second, 10)
	ephErr(t, "ClaimLogouts", err, nil)
	want := d
	want.NextAt = now.Add(30 * time.Second)
	ephSame(t, "ClaimLogouts", got, []storage.LogoutDelivery{want})

	// Leased: nobody gets it again until the lease ends.
	got, err = s.Logout.ClaimLogouts(ctx, now.Add(10*time.Second), 30*time.Second, 10)
	ephErr(t, "ClaimLogouts leased", err, nil)
	if len(got) != 0 {
		t.Fatalf("claimed a leased item: %v", got)
	}
	// The lease ends (a node died): another claim takes both.
	got, err = s.Logout.ClaimLogouts(ctx, now.Add(time.Minute), 30*time.Second, 10)
	ephErr(t, "ClaimLogouts after lease", err, nil)
	ids := []string{}
	for _, g := range got {
		ids = append(ids, g.ID)
	}
	slices.Sort(ids)
	ephSame(t, "claimed ids", ids, []string{"d1", "d2"})

	// Rescheduled: the new state is what the next claim returns.
	next := d
	next.Attempts, next.Token, next.NextAt = 1, "tok2", now.Add(2*time.Minute)
	ephErr(t, "RescheduleLogout", s.Logout.RescheduleLogout(ctx, next), nil)
	ephErr(t, "DeleteLogout d2", s.Logout.DeleteLogout(ctx, "d2"), nil)
	ephErr(t, "DeleteLogout twice", s.Logout.DeleteLogout(ctx, "d2"), nil)
	got, err = s.Logout.ClaimLogouts(ctx, now.Add(5*time.Minute), 30*time.Second, 10)
	ephErr(t, "ClaimLogouts rescheduled", err, nil)
	want = next
	want.NextAt = now.Add(5*time.Minute + 30*time.Second)
	ephSame(t, "rescheduled", got, []storage.LogoutDelivery{want})

	// A delivery deleted meanwhile is not brought back by a reschedule.
	ephErr(t, "DeleteLogout d1", s.Logout.DeleteLogout(ctx, "d1"), nil)
	ephErr(t, "RescheduleLogout deleted", s.Logout.RescheduleLogout(ctx, next), nil)
	got, err = s.Logout.ClaimLogouts(ctx, now.Add(time.Hour), 30*time.Second, 10)
	ephErr(t, "ClaimLogouts empty", err, nil)
	if len(got) != 0 {
		t.Fatalf("deleted item claimed: %v", got)
	}
}

// testLogoutClaimConcurrent: nodes claiming at once never get one item
// twice (the lease is taken atomically).
func testLogoutClaimConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	const n = 20
	for i := range n {
		d := storage.LogoutDelivery{ID: "c" + string(rune('a'+i)), NextAt: now, Deadline: now.Add(time.Hour)}
		ephErr(t, "EnqueueLogout", s.Logout.EnqueueLogout(ctx, d), nil)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.Logout.ClaimLogouts(ctx, now, time.Minute, 7)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, d := range got {
				seen[d.ID]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct items, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("item %s claimed %d times", id, c)
		}
	}
}
