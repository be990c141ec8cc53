package memstore

import (
	"context"
	"time"
)

// notBefore is a user's "tokens issued before t are invalid" entry, kept
// until `until`.
type notBefore struct {
	t, until time.Time
	spare    string // session exempt from t
}

// Revoke marks id revoked until the given time. A later until extends an
// existing entry; an earlier one never shortens it.
func (s *Store) Revoke(_ context.Context, id string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if cur, ok := s.revoked[id]; !ok || until.After(cur) {
		s.revoked[id] = until
	}
	s.wrote(now)
	return nil
}

// IsRevoked reports whether any of ids is revoked at the clock's now.
func (s *Store) IsRevoked(_ context.Context, ids ...string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, id := range ids {
		if until, ok := s.revoked[id]; ok && live(until, now) {
			return true, nil
		}
	}
	return false, nil
}

// SetNotBefore makes tokens of the user issued before t invalid, except
// those of session spare, keeping the entry until `until`. It never moves
// an existing not-before backwards, so a delayed, older "log out
// everywhere" can't revalidate tokens.
func (s *Store) SetNotBefore(_ context.Context, userID string, t, until time.Time, spare string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if cur, ok := s.notBefore[userID]; ok && live(cur.until, now) {
		if cur.t.After(t) {
			t, spare = cur.t, cur.spare
		}
		if cur.until.After(until) {
			until = cur.until
		}
	}
	s.notBefore[userID] = notBefore{t: t, until: until, spare: spare}
	s.wrote(now)
	return nil
}

// NotBefore returns the user's not-before time and spared session, zero
// and "" when none or expired.
func (s *Store) NotBefore(_ context.Context, userID string) (time.Time, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nb, ok := s.notBefore[userID]
	if !ok || !live(nb.until, s.now()) {
		return time.Time{}, "", nil
	}
	return nb.t, nb.spare, nil
}
