package memstore

import (
	"context"
	"time"
)

// UseOnce records key until `until` and reports whether this was its first
// use while live. Expired entries go with the regular sweep (wrote).
func (s *Store) UseOnce(_ context.Context, key string, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if cur, ok := s.nonces[key]; ok && live(cur, now) {
		return false, nil
	}
	s.nonces[key] = until
	s.wrote(now)
	return true, nil
}
