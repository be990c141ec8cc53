package storagetest

import (
	"testing"
	"time"
)

func testRevocations(t *testing.T, s Stores) {
	t.Run("revoke", func(t *testing.T) { testRevoke(t, s) })
	t.Run("not-before", func(t *testing.T) { testNotBefore(t, s) })
}

func testRevoke(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	ephErr(t, "Revoke", s.Revocations.Revoke(ctx, "jti-short", now.Add(time.Minute)), nil)
	ephErr(t, "Revoke", s.Revocations.Revoke(ctx, "sid-long", now.Add(time.Hour)), nil)

	cases := []struct {
		name    string
		advance time.Duration
		ids     []string
		want    bool
	}{
		{"no ids", 0, nil, false},
		{"unknown", 0, []string{"jti-unknown"}, false},
		{"one revoked", 0, []string{"jti-short"}, true},
		{"revoked among several", 0, []string{"jti-unknown", "sid-other", "sid-long"}, true},
		{"just before until", time.Minute - time.Second, []string{"jti-short"}, true},
		{"at until", time.Second, []string{"jti-short"}, false},
		{"other still revoked", 0, []string{"jti-short", "sid-long"}, true},
		{"all expired", time.Hour, []string{"jti-short", "sid-long"}, false},
	}
	for _, c := range cases {
		s.Clock.Advance(c.advance)
		got, err := s.Revocations.IsRevoked(ctx, c.ids...)
		ephErr(t, c.name, err, nil)
		if got != c.want {
			t.Fatalf("%s: IsRevoked(%q) = %v, want %v", c.name, c.ids, got, c.want)
		}
	}
}

func testNotBefore(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	nb, err := s.Revocations.NotBefore(ctx, "u-unknown")
	ephErr(t, "NotBefore unknown", err, nil)
	if !nb.IsZero() {
		t.Fatalf("NotBefore of unknown user = %v, want zero", nb)
	}

	ephErr(t, "SetNotBefore", s.Revocations.SetNotBefore(ctx, "u1", now, now.Add(time.Hour)), nil)
	nb, err = s.Revocations.NotBefore(ctx, "u1")
	ephErr(t, "NotBefore", err, nil)
	if !nb.Equal(now) {
		t.Fatalf("NotBefore = %v, want %v", nb, now)
	}

	s.Clock.Advance(10 * time.Minute)
	later := s.Clock.Now()
	ephErr(t, "SetNotBefore later", s.Revocations.SetNotBefore(ctx, "u1", later, later.Add(time.Hour)), nil)
	nb, err = s.Revocations.NotBefore(ctx, "u1")
	ephErr(t, "NotBefore later", err, nil)
	if !nb.Equal(later) {
		t.Fatalf("NotBefore after second set = %v, want %v", nb, later)
	}
	if nb, _ = s.Revocations.NotBefore(ctx, "u2"); !nb.IsZero() {
		t.Fatalf("NotBefore of another user = %v, want zero", nb)
	}

	s.Clock.Advance(time.Hour)
	nb, err = s.Revocations.NotBefore(ctx, "u1")
	ephErr(t, "NotBefore after until", err, nil)
	if !nb.IsZero() {
		t.Fatalf("NotBefore after until = %v, want zero", nb)
	}
}
