package storagetest

import (
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// RunDevice runs the device-grant conformance suite (RFC 8628 state) against
// fresh stores from newStore, which gets the subtest's t and a new Clock to
// use as the store's Now. It is separate from Run so that a backend adds
// the device grant with a test of its own.
func RunDevice(t *testing.T, newStore func(t *testing.T, clock *Clock) storage.DeviceStore) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s storage.DeviceStore, clock *Clock)
	}{
		{"create-lookup", testDeviceCreate},
		{"decide", testDeviceDecide},
		{"poll", testDevicePoll},
		{"poll-denied", testDevicePollDenied},
		{"expiry", testDeviceExpiry},
		{"concurrent", testDeviceConcurrent},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := NewClock()
			c.run(t, newStore(t, clock), clock)
		})
	}
}

const deviceStep = 5 * time.Second

// deviceGrant is a pending grant of client "cli" made at now.
func deviceGrant(hash, code string, now time.Time) storage.DeviceGrant {
	return storage.DeviceGrant{
		DeviceHash: hash, UserCode: code, ClientID: "cli", Scope: "openid email", FamilyID: "fam-" + hash,
		Interval: 5 * time.Second, ExpiresAt: now.Add(10 * time.Minute), KeepUntil: now.Add(20 * time.Minute),
		Status: storage.DevicePending,
	}
}

func testDeviceCreate(t *testing.T, s storage.DeviceStore, clock *Clock) {
	ctx := t.Context()
	g := deviceGrant("h1", "BCDFGHJK", clock.Now())
	ephErr(t, "create", s.CreateDeviceGrant(ctx, g, clock.Now()), nil)
	got, err := s.DeviceGrantByUserCode(ctx, "BCDFGHJK", clock.Now())
	ephErr(t, "by user code", err, nil)
	ephSame(t, "by user code", got, g)

	_, err = s.DeviceGrantByUserCode(ctx, "ZZZZZZZZ", clock.Now())
	ephErr(t, "unknown user code", err, storage.ErrNotFound)
	ephErr(t, "user code taken", s.CreateDeviceGrant(ctx, deviceGrant("h2", "BCDFGHJK", clock.Now()), clock.Now()), storage.ErrExists)
	ephErr(t, "device hash taken", s.CreateDeviceGrant(ctx, deviceGrant("h1", "LMNPQRST", clock.Now()), clock.Now()), storage.ErrExists)
	// The refused grants left nothing behind.
	_, err = s.DeviceGrantByUserCode(ctx, "LMNPQRST", clock.Now())
	ephErr(t, "refused user code", err, storage.ErrNotFound)
	got, err = s.DeviceGrantByUserCode(ctx, "BCDFGHJK", clock.Now())
	ephErr(t, "first grant after refusals", err, nil)
	ephSame(t, "first grant after refusals", got.DeviceHash, "h1")
}

func testDeviceDecide(t *testing.T, s storage.DeviceStore, clock *Clock) {
	ctx := t.Context()
	now := clock.Now()
	for _, g := range []storage.DeviceGrant{deviceGrant("ha", "AAAAAAAA", now), deviceGrant("hd", "DDDDDDDD", now)} {
		ephErr(t, "create", s.CreateDeviceGrant(ctx, g, clock.Now()), nil)
	}
	authTime := now.Add(-time.Minute)
	got, err := s.DecideDeviceGrant(ctx, "AAAAAAAA", storage.DeviceDecision{Approve: true, UserID: "u1", AuthTime: authTime,
		SessionID: "sess-1", SID: "sid-1", AMR: []string{"pwd", "otp", "mfa"}}, clock.Now())
	ephErr(t, "approve", err, nil)
	want := deviceGrant("ha", "AAAAAAAA", now)
	want.Status, want.UserID, want.AuthTime, want.SessionID = storage.DeviceApproved, "u1", authTime, "sess-1"
	want.SID, want.AMR = "sid-1", []string{"pwd", "otp", "mfa"}
	ephSame(t, "approved", got, want)

	got, err = s.DecideDeviceGrant(ctx, "DDDDDDDD", storage.DeviceDecision{UserID: "u2"}, clock.Now())
	ephErr(t, "deny", err, nil)
	ephSame(t, "denied status", got.Status, storage.DeviceDenied)
	ephSame(t, "denied user", got.UserID, "")

	for _, code := range []string{"AAAAAAAA", "DDDDDDDD", "XXXXXXXX"} {
		_, err = s.DecideDeviceGrant(ctx, code, storage.DeviceDecision{Approve: true, UserID: "u3"}, clock.Now())
		ephErr(t, "second decision "+code, err, storage.ErrNotFound)
		_, err = s.DeviceGrantByUserCode(ctx, code, clock.Now())
		ephErr(t, "lookup after decision "+code, err, storage.ErrNotFound)
	}
}

// pollWant is one poll and what it must answer.
type pollWant struct {
	after    time.Duration // clock advance before the poll
	client   string
	out      storage.DevicePoll
	err      error
	interval time.Duration // the grant's interval after the poll (when err is nil)
}

func runPolls(t *testing.T, s storage.DeviceStore, clock *Clock, hash string, polls []pollWant) storage.DeviceGrant {
	t.Helper()
	var last storage.DeviceGrant
	for i, p := range polls {
		clock.Advance(p.after)
		g, out, err := s.PollDeviceGrant(t.Context(), hash, p.client, clock.Now(), deviceStep)
		ephErr(t, "poll", err, p.err)
		if err != nil {
			continue
		}
		if out != p.out || g.Interval != p.interval {
			t.Fatalf("poll %d (+%v): outcome %d interval %v, want %d %v", i, p.after, out, g.Interval, p.out, p.interval)
		}
		if p.out != storage.PollExpired && !g.LastPollAt.Equal(clock.Now()) {
			t.Fatalf("poll %d: LastPollAt %v, want %v", i, g.LastPollAt, clock.Now())
		}
		last = g
	}
	return last
}

func testDevicePoll(t *testing.T, s storage.DeviceStore, clock *Clock) {
	ctx := t.Context()
	ephErr(t, "create", s.CreateDeviceGrant(ctx, deviceGrant("hp", "PPPPPPPP", clock.Now()), clock.Now()), nil)
	_, err := s.DecideDeviceGrant(ctx, "PPPPPPPP", storage.DeviceDecision{Approve: true, UserID: "u1", AuthTime: clock.Now()}, clock.Now())
	ephErr(t, "approve", err, nil)
	s5, s10, s15 := 5*time.Second, 10*time.Second, 15*time.Second
	g := runPolls(t, s, clock, "hp", []pollWant{
		{0, "other", 0, storage.ErrNotFound, 0},  // another client's poll records nothing
		{0, "cli", storage.PollPending, nil, s5}, // the first poll: pending although approved
		{time.Second, "cli", storage.PollSlowDown, nil, s10},
		{6 * time.Second, "cli", storage.PollSlowDown, nil, s15},               // 6 s < 10 s: too soon again
		{13 * time.Second, "cli", storage.PollSlowDown, nil, 20 * time.Second}, // 13 s < 13.5 s (nine tenths of 15)
		{0, "unknown-client", 0, storage.ErrNotFound, 0},
		// A tenth of the interval is forgiven (PollTooSoon): 18 s of 20.
		{18 * time.Second, "cli", storage.PollApproved, nil, 20 * time.Second},
		{time.Minute, "cli", 0, storage.ErrReused, 0},
		{0, "cli", 0, storage.ErrReused, 0},
	})
	ephSame(t, "redeemed grant user", g.UserID, "u1")
	ephSame(t, "redeemed grant status", g.Status, storage.DeviceRedeemed)
	_, _, err = s.PollDeviceGrant(ctx, "no-such-hash", "cli", clock.Now(), deviceStep)
	ephErr(t, "unknown hash", err, storage.ErrNotFound)
}

func testDevicePollDenied(t *testing.T, s storage.DeviceStore, clock *Clock) {
	ctx := t.Context()
	ephErr(t, "create", s.CreateDeviceGrant(ctx, deviceGrant("hn", "NNNNNNNN", clock.Now()), clock.Now()), nil)
	s5 := 5 * time.Second
	runPolls(t, s, clock, "hn", []pollWant{
		{0, "cli", storage.PollPending, nil, s5},
		{s5, "cli", storage.PollPending, nil, s5},
		{s5 - 500*time.Millisecond, "cli", storage.PollPending, nil, s5}, // 4.5 s of 5: forgiven
		{s5 - time.Second, "cli", storage.PollSlowDown, nil, 2 * s5},     // 4 s of 5: too soon
	})
	_, err := s.DecideDeviceGrant(ctx, "NNNNNNNN", storage.DeviceDecision{UserID: "u1"}, clock.Now())
	ephErr(t, "deny", err, nil)
	runPolls(t, s, clock, "hn", []pollWant{
		{2 * s5, "cli", storage.PollDenied, nil, 2 * s5},
		{2 * s5, "cli", storage.PollDenied, nil, 2 * s5},
	})
}

func testDeviceExpiry(t *testing.T, s storage.DeviceStore, clock *Clock) {
	ctx := t.Context()
	g := deviceGrant("hx", "XXXXXXXX", clock.Now())
	ephErr(t, "create", s.CreateDeviceGrant(ctx, g, clock.Now()), nil)
	runPolls(t, s, clock, "hx", []pollWant{{0, "cli", storage.PollPending, nil, 5 * time.Second}})

	clock.Advance(10 * time.Minute) // ExpiresAt reached
	_, err := s.DeviceGrantByUserCode(ctx, "XXXXXXXX", clock.Now())
	ephErr(t, "expired user code", err, storage.ErrNotFound)
	_, err = s.DecideDeviceGrant(ctx, "XXXXXXXX", storage.DeviceDecision{Approve: true, UserID: "u1"}, clock.Now())
	ephErr(t, "decide expired", err, storage.ErrNotFound)
	runPolls(t, s, clock, "hx", []pollWant{
		{0, "cli", storage.PollExpired, nil, 5 * time.Second},
		{time.Second, "cli", storage.PollExpired, nil, 5 * time.Second}, // no slow_down once expired
	})
	// The expired grant's user code may be drawn again.
	fresh := deviceGrant("hy", "XXXXXXXX", clock.Now())
	ephErr(t, "reuse expired user code", s.CreateDeviceGrant(ctx, fresh, clock.Now()), nil)
	got, err := s.DeviceGrantByUserCode(ctx, "XXXXXXXX", clock.Now())
	ephErr(t, "reused user code", err, nil)
	ephSame(t, "reused user code", got.DeviceHash, "hy")

	clock.Advance(10*time.Minute + time.Second) // past the first grant's KeepUntil
	_, _, err = s.PollDeviceGrant(ctx, "hx", "cli", clock.Now(), deviceStep)
	ephErr(t, "forgotten grant", err, storage.ErrNotFound)
}

// testDeviceConcurrent: of concurrent decisions one wins; of concurrent
// polls of an approved grant exactly one gets the tokens.
func testDeviceConcurrent(t *testing.T, s storage.DeviceStore, clock *Clock) {
	ctx := t.Context()
	ephErr(t, "create", s.CreateDeviceGrant(ctx, deviceGrant("hc", "CCCCCCCC", clock.Now()), clock.Now()), nil)
	runPolls(t, s, clock, "hc", []pollWant{{0, "cli", storage.PollPending, nil, 5 * time.Second}})
	const n = 8
	var mu sync.Mutex
	var decided, approvedPolls int
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.DecideDeviceGrant(ctx, "CCCCCCCC", storage.DeviceDecision{Approve: i%2 == 0, UserID: "u"}, clock.Now())
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				decided++
			}
		})
	}
	wg.Wait()
	_, err := s.DeviceGrantByUserCode(ctx, "CCCCCCCC", clock.Now())
	ephErr(t, "lookup after decisions", err, storage.ErrNotFound)
	if decided != 1 {
		t.Fatalf("%d decisions won, want 1", decided)
	}
	// Make sure the grant is approved, then race the polls.
	ephErr(t, "create 2", s.CreateDeviceGrant(ctx, deviceGrant("hc2", "CCCCCCCD", clock.Now()), clock.Now()), nil)
	runPolls(t, s, clock, "hc2", []pollWant{{0, "cli", storage.PollPending, nil, 5 * time.Second}})
	_, err = s.DecideDeviceGrant(ctx, "CCCCCCCD", storage.DeviceDecision{Approve: true, UserID: "u"}, clock.Now())
	ephErr(t, "approve 2", err, nil)
	clock.Advance(time.Minute)
	for range n {
		wg.Go(func() {
			_, out, err := s.PollDeviceGrant(ctx, "hc2", "cli", clock.Now(), deviceStep)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && out == storage.PollApproved {
				approvedPolls++
			}
		})
	}
	wg.Wait()
	if approvedPolls != 1 {
		t.Fatalf("%d polls got the tokens, want 1", approvedPolls)
	}
}

// BenchDevicePoll measures one poll of a pending grant (the request a
// waiting device repeats), with the interval passed each time.
func BenchDevicePoll(b *testing.B, s storage.DeviceStore) {
	ctx := b.Context()
	now := time.Now()
	g := deviceGrant("bench-hash", "BBBBBBBB", now)
	// Each poll moves the clock one interval on: live for ten years of them.
	g.ExpiresAt, g.KeepUntil = now.AddDate(10, 0, 0), now.AddDate(10, 0, 1)
	if err := s.CreateDeviceGrant(ctx, g, now); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(g.Interval)
		if _, out, err := s.PollDeviceGrant(ctx, g.DeviceHash, g.ClientID, now, deviceStep); err != nil || out != storage.PollPending {
			b.Fatalf("poll: %d %v", out, err)
		}
	}
}
