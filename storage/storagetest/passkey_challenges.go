package storagetest

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/storage"
)

// testPasskeyChallenges covers WebAuthn ceremonies in the session store
// (SPEC §10): single use on every node, short-lived.
func testPasskeyChallenges(t *testing.T, s Stores) {
	t.Run("round-trip", func(t *testing.T) { testPasskeyChallengeRoundTrip(t, s) })
	t.Run("replace", func(t *testing.T) { testPasskeyChallengeReplace(t, s) })
	t.Run("take-once-concurrent", func(t *testing.T) { testPasskeyChallengeConcurrent(t, s) })
	t.Run("expiry", func(t *testing.T) { testPasskeyChallengeExpiry(t, s) })
}

// sessionBytes is library session data with every byte value, as a
// serializer other than JSON might produce.
func sessionBytes(tag string) []byte {
	b := []byte(`{"challenge":"` + tag + `","user_id":"AAEC","allowed_credentials":null}`)
	for i := range 256 {
		b = append(b, byte(i))
	}
	return b
}

func testPasskeyChallengeRoundTrip(t *testing.T, s Stores) {
	ctx := t.Context()
	exp := s.Clock.Now().Add(5*time.Minute + 123456789*time.Nanosecond)
	cases := []storage.PasskeyChallenge{
		{Key: "pkreg:7a0c0000-0000-4000-8000-000000000071", UserID: "7a0c0000-0000-4000-8000-000000000071", Session: sessionBytes("reg"), ExpiresAt: exp},
		{Key: "pklogin:b1946ac92492d2347c6235b4d2611184", Session: sessionBytes("login"), ExpiresAt: exp.Add(time.Minute)},
		{Key: "pkmfa:5d41402abc4b2a76b9719d911017c592", UserID: "7a0c0000-0000-4000-8000-000000000072",
			MFAHash: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", Session: []byte{0x00}, ExpiresAt: exp},
		// Keys that differ only by a suffix are separate ceremonies.
		{Key: "pkmfa:5d41402abc4b2a76b9719d911017c592:2", Session: sessionBytes("suffix"), ExpiresAt: exp},
	}
	for _, c := range cases {
		ephErr(t, "SavePasskeyChallenge "+c.Key, s.PasskeyChallenges.SavePasskeyChallenge(ctx, c), nil)
	}
	_, err := s.PasskeyChallenges.TakePasskeyChallenge(ctx, "pklogin:unknown")
	ephErr(t, "TakePasskeyChallenge of an unknown key", err, storage.ErrNotFound)
	// Taken in reverse order: taking one leaves the others.
	for i := len(cases) - 1; i >= 0; i-- {
		c := cases[i]
		got, err := s.PasskeyChallenges.TakePasskeyChallenge(ctx, c.Key)
		ephErr(t, "TakePasskeyChallenge "+c.Key, err, nil)
		ephSame(t, "TakePasskeyChallenge "+c.Key, got, c)
		if !bytes.Equal(got.Session, c.Session) || !got.ExpiresAt.Equal(c.ExpiresAt) {
			t.Fatalf("TakePasskeyChallenge %s: Session %x until %v, want %x until %v", c.Key, got.Session, got.ExpiresAt, c.Session, c.ExpiresAt)
		}
		_, err = s.PasskeyChallenges.TakePasskeyChallenge(ctx, c.Key)
		ephErr(t, "TakePasskeyChallenge twice "+c.Key, err, storage.ErrNotFound)
	}

	// The store keeps its own copy of Session.
	buf := sessionBytes("lent")
	c := storage.PasskeyChallenge{Key: "pkreg:lent", Session: buf, ExpiresAt: exp}
	ephErr(t, "SavePasskeyChallenge", s.PasskeyChallenges.SavePasskeyChallenge(ctx, c), nil)
	copy(buf, "XXXX")
	got, err := s.PasskeyChallenges.TakePasskeyChallenge(ctx, c.Key)
	ephErr(t, "TakePasskeyChallenge after changing the saved buffer", err, nil)
	if want := sessionBytes("lent"); !bytes.Equal(got.Session, want) {
		t.Fatalf("Session after the caller changed its buffer = %q, want %q", got.Session, want)
	}
}

func testPasskeyChallengeReplace(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	first := storage.PasskeyChallenge{Key: "pkreg:replace", UserID: "u-first", MFAHash: "h-first", Session: sessionBytes("first"), ExpiresAt: now.Add(time.Minute)}
	second := storage.PasskeyChallenge{Key: "pkreg:replace", UserID: "u-second", Session: sessionBytes("second"), ExpiresAt: now.Add(5 * time.Minute)}
	ephErr(t, "SavePasskeyChallenge first", s.PasskeyChallenges.SavePasskeyChallenge(ctx, first), nil)
	ephErr(t, "SavePasskeyChallenge second", s.PasskeyChallenges.SavePasskeyChallenge(ctx, second), nil)
	// Past the first's expiry: the second's applies, whole (MFAHash too).
	s.Clock.Advance(2 * time.Minute)
	got, err := s.PasskeyChallenges.TakePasskeyChallenge(ctx, second.Key)
	ephErr(t, "TakePasskeyChallenge after a replace", err, nil)
	ephSame(t, "TakePasskeyChallenge after a replace", got, second)
	_, err = s.PasskeyChallenges.TakePasskeyChallenge(ctx, second.Key)
	ephErr(t, "TakePasskeyChallenge after a replace, twice", err, storage.ErrNotFound)

	// A replacement may also shorten the life.
	long := storage.PasskeyChallenge{Key: "pklogin:shorten", Session: sessionBytes("long"), ExpiresAt: s.Clock.Now().Add(time.Hour)}
	short := storage.PasskeyChallenge{Key: "pklogin:shorten", Session: sessionBytes("short"), ExpiresAt: s.Clock.Now().Add(time.Minute)}
	ephErr(t, "SavePasskeyChallenge long", s.PasskeyChallenges.SavePasskeyChallenge(ctx, long), nil)
	ephErr(t, "SavePasskeyChallenge short", s.PasskeyChallenges.SavePasskeyChallenge(ctx, short), nil)
	s.Clock.Advance(time.Minute)
	_, err = s.PasskeyChallenges.TakePasskeyChallenge(ctx, short.Key)
	ephErr(t, "TakePasskeyChallenge past the replacement's expiry", err, storage.ErrNotFound)

	// Replaced by one already expired: nothing live is left under the key.
	live := storage.PasskeyChallenge{Key: "pklogin:dead-replacement", Session: sessionBytes("live"), ExpiresAt: s.Clock.Now().Add(time.Hour)}
	dead := storage.PasskeyChallenge{Key: live.Key, Session: sessionBytes("dead"), ExpiresAt: s.Clock.Now().Add(-time.Second)}
	ephErr(t, "SavePasskeyChallenge live", s.PasskeyChallenges.SavePasskeyChallenge(ctx, live), nil)
	ephErr(t, "SavePasskeyChallenge expired", s.PasskeyChallenges.SavePasskeyChallenge(ctx, dead), nil)
	_, err = s.PasskeyChallenges.TakePasskeyChallenge(ctx, live.Key)
	ephErr(t, "TakePasskeyChallenge after an expired replacement", err, storage.ErrNotFound)
}

func testPasskeyChallengeConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	// Rounds make a take that is not atomic (read, then delete) lose more
	// than once likelier; one round seldom shows it.
	for round := range 25 {
		c := storage.PasskeyChallenge{Key: fmt.Sprintf("pklogin:race-%d", round), Session: sessionBytes("race"), ExpiresAt: s.Clock.Now().Add(time.Minute)}
		ephErr(t, "SavePasskeyChallenge", s.PasskeyChallenges.SavePasskeyChallenge(ctx, c), nil)
		const n = 8
		var wins, misses atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				got, err := s.PasskeyChallenges.TakePasskeyChallenge(ctx, c.Key)
				switch {
				case err == nil && bytes.Equal(got.Session, c.Session):
					wins.Add(1)
				case err == storage.ErrNotFound:
					misses.Add(1)
				default:
					t.Errorf("TakePasskeyChallenge: %+v, %v", got, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || misses.Load() != n-1 {
			t.Fatalf("%d concurrent takes: %d succeeded, %d not found; want 1 and %d", n, wins.Load(), misses.Load(), n-1)
		}
	}
}

func testPasskeyChallengeExpiry(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	a := storage.PasskeyChallenge{Key: "pklogin:exp-a", Session: sessionBytes("a"), ExpiresAt: now.Add(5 * time.Minute)}
	b := storage.PasskeyChallenge{Key: "pklogin:exp-b", Session: sessionBytes("b"), ExpiresAt: now.Add(5 * time.Minute)}
	dead := storage.PasskeyChallenge{Key: "pklogin:exp-dead", Session: sessionBytes("dead"), ExpiresAt: now}
	for _, c := range []storage.PasskeyChallenge{a, b, dead} {
		ephErr(t, "SavePasskeyChallenge "+c.Key, s.PasskeyChallenges.SavePasskeyChallenge(ctx, c), nil)
	}
	_, err := s.PasskeyChallenges.TakePasskeyChallenge(ctx, dead.Key)
	ephErr(t, "TakePasskeyChallenge of one saved already expired", err, storage.ErrNotFound)
	s.Clock.Advance(5*time.Minute - time.Millisecond)
	got, err := s.PasskeyChallenges.TakePasskeyChallenge(ctx, a.Key)
	ephErr(t, "TakePasskeyChallenge just before expiry", err, nil)
	ephSame(t, "TakePasskeyChallenge just before expiry", got, a)
	s.Clock.Advance(time.Millisecond)
	_, err = s.PasskeyChallenges.TakePasskeyChallenge(ctx, b.Key)
	ephErr(t, "TakePasskeyChallenge at expiry", err, storage.ErrNotFound)
	// Saving again revives the key: expiry is per save.
	b.ExpiresAt = s.Clock.Now().Add(time.Minute)
	ephErr(t, "SavePasskeyChallenge after expiry", s.PasskeyChallenges.SavePasskeyChallenge(ctx, b), nil)
	got, err = s.PasskeyChallenges.TakePasskeyChallenge(ctx, b.Key)
	ephErr(t, "TakePasskeyChallenge of the saved-again one", err, nil)
	ephSame(t, "TakePasskeyChallenge of the saved-again one", got, b)
}
