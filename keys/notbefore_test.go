package keys_test

import (
	"testing"
	"time"

	"user-registry/keys"
)

// TestRevokedByNotBefore: the one not-before rule, shared by the access
// token verifier, refresh and introspection (provider) and browser
// sessions: strictly before a non-zero not-before is revoked, unless the
// session is the spared one; "" as sid is never spared.
func TestRevokedByNotBefore(t *testing.T) {
	nb := time.Date(2031, 3, 4, 5, 6, 7, 500_000_000, time.UTC)
	before, after := nb.Add(-time.Nanosecond), nb.Add(time.Nanosecond)
	tests := []struct {
		name       string
		issued     time.Time
		sid        string
		nb         time.Time
		spare      string
		wantRevoke bool
	}{
		{"no not-before", before, "s1", time.Time{}, "", false},
		{"no not-before, a spare", before, "", time.Time{}, "s1", false},
		{"before", before, "s1", nb, "", true},
		{"same instant", nb, "s1", nb, "", false},
		{"after", after, "s1", nb, "", false},
		{"same second, earlier", nb.Truncate(time.Second), "s1", nb, "", true},
		{"before, the spared session", before, "s1", nb, "s1", false},
		{"before, another session spared", before, "s2", nb, "s1", true},
		{"before, no session, a spare (browser session)", before, "", nb, "s1", true},
		{"before, no session, no spare", before, "", nb, "", true},
		{"after, another session spared", after, "s2", nb, "s1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keys.RevokedByNotBefore(tc.issued, tc.sid, tc.nb, tc.spare); got != tc.wantRevoke {
				t.Errorf("RevokedByNotBefore(%v, %q, %v, %q) = %v, want %v", tc.issued, tc.sid, tc.nb, tc.spare, got, tc.wantRevoke)
			}
		})
	}
}
