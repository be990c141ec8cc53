package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// refreshLink returns token hash of family fam, issued at now with the
// suite's idle (1h) and absolute (24h from familyStart) lifetimes.
func refreshLink(fam, hash string, now, familyStart time.Time) storage.RefreshToken {
	return storage.RefreshToken{
		Hash: hash, FamilyID: fam, UserID: "u1", ClientID: "client-1", Scope: "openid offline_access",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour), FamilyExpiresAt: familyStart.Add(24 * time.Hour),
		JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", // a DPoP binding is kept with the record
		AMR: []string{"pwd", "otp", "mfa"}, ACR: "mfa",     // so is how the user signed in (SPEC §10)
	}
}

func testRefresh(t *testing.T, s Stores) {
	t.Run("rotate", func(t *testing.T) { testRefreshRotate(t, s) })
	t.Run("revoke-family", func(t *testing.T) { testRefreshRevoke(t, s) })
	t.Run("expiry", func(t *testing.T) { testRefreshExpiry(t, s) })
	t.Run("concurrent", func(t *testing.T) { testRefreshConcurrent(t, s) })
}

func testRefreshRotate(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	const fam = "fam-rotate"
	t1 := refreshLink(fam, "rt-1", now, now)
	ephErr(t, "CreateRefresh", s.Refresh.CreateRefresh(ctx, t1), nil)
	got, err := s.Refresh.RefreshToken(ctx, fam, t1.Hash)
	ephErr(t, "RefreshToken", err, nil)
	ephSame(t, "RefreshToken", got, t1)

	s.Clock.Advance(time.Minute)
	t2 := refreshLink(fam, "rt-2", s.Clock.Now(), now)
	old, err := s.Refresh.RotateRefresh(ctx, fam, t1.Hash, t2)
	ephErr(t, "RotateRefresh", err, nil)
	ephSame(t, "RotateRefresh returns the old token", old, t1)

	_, err = s.Refresh.RefreshToken(ctx, fam, t1.Hash)
	ephErr(t, "rotated token is no longer current", err, storage.ErrNotFound)
	got, err = s.Refresh.RefreshToken(ctx, fam, t2.Hash)
	ephErr(t, "new token", err, nil)
	ephSame(t, "new token", got, t2)

	t3 := refreshLink(fam, "rt-3", s.Clock.Now(), now)
	old, err = s.Refresh.RotateRefresh(ctx, fam, t2.Hash, t3)
	ephErr(t, "second RotateRefresh", err, nil)
	ephSame(t, "second RotateRefresh", old, t2)

	// Presenting t1 again is reuse: the family, newest token included, dies.
	_, err = s.Refresh.RotateRefresh(ctx, fam, t1.Hash, refreshLink(fam, "rt-x", s.Clock.Now(), now))
	ephErr(t, "reuse of a rotated token", err, storage.ErrReused)
	for _, h := range []string{t3.Hash, "rt-x"} {
		_, err = s.Refresh.RefreshToken(ctx, fam, h)
		ephErr(t, "token of revoked family "+h, err, storage.ErrNotFound)
		_, err = s.Refresh.RotateRefresh(ctx, fam, h, refreshLink(fam, "rt-y", s.Clock.Now(), now))
		ephErr(t, "rotate in revoked family "+h, err, storage.ErrNotFound)
	}

	unknown := []struct{ name, fam, hash string }{
		{"unknown family", "fam-unknown", "rt-1"},
		{"unknown token", "fam-other", "rt-unknown"},
	}
	ephErr(t, "CreateRefresh", s.Refresh.CreateRefresh(ctx, refreshLink("fam-other", "rt-o", now, now)), nil)
	for _, u := range unknown {
		_, err = s.Refresh.RotateRefresh(ctx, u.fam, u.hash, refreshLink(u.fam, "rt-z", now, now))
		ephErr(t, u.name, err, storage.ErrNotFound)
		_, err = s.Refresh.RefreshToken(ctx, u.fam, u.hash)
		ephErr(t, u.name, err, storage.ErrNotFound)
	}
	// A token of another family is not a token of this one.
	_, err = s.Refresh.RefreshToken(ctx, fam, "rt-o")
	ephErr(t, "token of another family", err, storage.ErrNotFound)
}

func testRefreshRevoke(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	const fam = "fam-revoke"
	t1 := refreshLink(fam, "rv-1", now, now)
	ephErr(t, "CreateRefresh", s.Refresh.CreateRefresh(ctx, t1), nil)
	keep := refreshLink("fam-keep", "rv-k", now, now)
	ephErr(t, "CreateRefresh", s.Refresh.CreateRefresh(ctx, keep), nil)

	ephErr(t, "RevokeFamily", s.Refresh.RevokeFamily(ctx, fam), nil)
	_, err := s.Refresh.RefreshToken(ctx, fam, t1.Hash)
	ephErr(t, "RefreshToken after revoke", err, storage.ErrNotFound)
	_, err = s.Refresh.RotateRefresh(ctx, fam, t1.Hash, refreshLink(fam, "rv-2", now, now))
	ephErr(t, "RotateRefresh after revoke", err, storage.ErrNotFound)
	ephErr(t, "RevokeFamily again", s.Refresh.RevokeFamily(ctx, fam), nil)
	ephErr(t, "RevokeFamily unknown", s.Refresh.RevokeFamily(ctx, "fam-unknown"), nil)

	if _, err = s.Refresh.RefreshToken(ctx, keep.FamilyID, keep.Hash); err != nil {
		t.Fatalf("other family after revoke: %v", err)
	}
}

func testRefreshExpiry(t *testing.T, s Stores) {
	ctx := t.Context()
	start := s.Clock.Now()
	const fam = "fam-expiry"
	t1 := refreshLink(fam, "ex-1", start, start)
	ephErr(t, "CreateRefresh", s.Refresh.CreateRefresh(ctx, t1), nil)

	// Idle expiry: a token unused for its whole lifetime is gone.
	s.Clock.Advance(time.Hour)
	_, err := s.Refresh.RefreshToken(ctx, fam, t1.Hash)
	ephErr(t, "idle-expired RefreshToken", err, storage.ErrNotFound)
	_, err = s.Refresh.RotateRefresh(ctx, fam, t1.Hash, refreshLink(fam, "ex-2", s.Clock.Now(), start))
	ephErr(t, "idle-expired RotateRefresh", err, storage.ErrNotFound)

	// Absolute expiry: rotating within the idle window doesn't extend the
	// family beyond FamilyExpiresAt.
	const fam2 = "fam-absolute"
	start = s.Clock.Now()
	prev := refreshLink(fam2, "ab-0", start, start)
	ephErr(t, "CreateRefresh", s.Refresh.CreateRefresh(ctx, prev), nil)
	for i := 1; i <= 25; i++ {
		s.Clock.Advance(59 * time.Minute)
		next := refreshLink(fam2, fmt.Sprintf("ab-%d", i), s.Clock.Now(), start)
		_, err = s.Refresh.RotateRefresh(ctx, fam2, prev.Hash, next)
		if !s.Clock.Now().Before(prev.FamilyExpiresAt) {
			// prev is within its idle window; only the family has expired.
			ephErr(t, "rotate after family expiry", err, storage.ErrNotFound)
			_, err = s.Refresh.RefreshToken(ctx, fam2, prev.Hash)
			ephErr(t, "RefreshToken after family expiry", err, storage.ErrNotFound)
			return
		}
		ephErr(t, fmt.Sprintf("rotation %d", i), err, nil)
		prev = next
	}
	t.Fatal("25 rotations 59 minutes apart outlived a 24h family")
}

func testRefreshConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	const fam = "fam-race"
	t1 := refreshLink(fam, "race-0", now, now)
	ephErr(t, "CreateRefresh", s.Refresh.CreateRefresh(ctx, t1), nil)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			next := refreshLink(fam, fmt.Sprintf("race-%d", i+1), now, now)
			_, errs[i] = s.Refresh.RotateRefresh(ctx, fam, t1.Hash, next)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, storage.ErrReused), errors.Is(err, storage.ErrNotFound):
		default:
			t.Errorf("RotateRefresh: unexpected error %v", err)
		}
	}
	if ok > 1 {
		t.Fatalf("%d of %d concurrent rotations of one token succeeded, want at most 1", ok, n)
	}
}
