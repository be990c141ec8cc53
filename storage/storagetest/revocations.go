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
	nb, spare, err := s.Revocations.NotBefore(ctx, "u-unknown")
	ephErr(t, "NotBefore unknown", err, nil)
	if !nb.IsZero() || spare != "" {
		t.Fatalf("NotBefore of unknown user = %v %q, want zero", nb, spare)
	}

	ephErr(t, "SetNotBefore", s.Revocations.SetNotBefore(ctx, "u1", now, now.Add(time.Hour), ""), nil)
	nb, spare, err = s.Revocations.NotBefore(ctx, "u1")
	ephErr(t, "NotBefore", err, nil)
	if !nb.Equal(now) || spare != "" {
		t.Fatalf("NotBefore = %v %q, want %v and no spared session", nb, spare, now)
	}

	// A password change: later not-before, sparing the caller's session.
	s.Clock.Advance(10 * time.Minute)
	later := s.Clock.Now()
	ephErr(t, "SetNotBefore later", s.Revocations.SetNotBefore(ctx, "u1", later, later.Add(time.Hour), "sid-caller"), nil)
	nb, spare, err = s.Revocations.NotBefore(ctx, "u1")
	ephErr(t, "NotBefore later", err, nil)
	if !nb.Equal(later) || spare != "sid-caller" {
		t.Fatalf("NotBefore after second set = %v %q, want %v sparing sid-caller", nb, spare, later)
	}
	// A delayed, older call changes nothing: neither the time nor the
	// spared session.
	ephErr(t, "SetNotBefore older", s.Revocations.SetNotBefore(ctx, "u1", now, now.Add(time.Hour), "sid-old"), nil)
	if nb, spare, _ = s.Revocations.NotBefore(ctx, "u1"); !nb.Equal(later) || spare != "sid-caller" {
		t.Fatalf("older SetNotBefore moved the entry: %v %q", nb, spare)
	}
	// A later "log out everywhere" spares nobody.
	s.Clock.Advance(time.Minute)
	latest := s.Clock.Now()
	ephErr(t, "SetNotBefore latest", s.Revocations.SetNotBefore(ctx, "u1", latest, latest.Add(time.Hour), ""), nil)
	if nb, spare, _ = s.Revocations.NotBefore(ctx, "u1"); !nb.Equal(latest) || spare != "" {
		t.Fatalf("logout everywhere after a password change = %v %q, want %v sparing nobody", nb, spare, latest)
	}
	if nb, _, _ = s.Revocations.NotBefore(ctx, "u2"); !nb.IsZero() {
		t.Fatalf("NotBefore of another user = %v, want zero", nb)
	}

	s.Clock.Advance(2 * time.Hour)
	nb, _, err = s.Revocations.NotBefore(ctx, "u1")
	ephErr(t, "NotBefore after until", err, nil)
	if !nb.IsZero() {
		t.Fatalf("NotBefore after until = %v, want zero", nb)
	}
}
