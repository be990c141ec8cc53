package memstore

import (
	"context"
	"time"
)

// UseOnce records key until `until` and reports whether this call was the
// first while no live entry for key exists. Expired entries go with the
// store's periodic sweep, so the map is bounded by the keys live at once.
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
