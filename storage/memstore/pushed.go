package memstore

import (
	"context"
	"time"

	"user-registry/storage"
)

// SavePushedRequest stores r until r.ExpiresAt.
func (s *Store) SavePushedRequest(_ context.Context, r storage.PushedRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.pushed == nil {
		s.pushed = map[string]storage.PushedRequest{}
	}
	s.pushed[r.Hash] = r
	s.wrote(now)
	return nil
}

// TakePushedRequest returns and deletes a live request of clientID;
// otherwise storage.ErrNotFound, leaving the request as it was.
func (s *Store) TakePushedRequest(_ context.Context, hash, clientID string) (storage.PushedRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.livePushed(hash, clientID)
	if err == nil {
		delete(s.pushed, hash)
	}
	return r, err
}

// PushedRequest returns a live request of clientID without taking it.
func (s *Store) PushedRequest(_ context.Context, hash, clientID string) (storage.PushedRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.livePushed(hash, clientID)
}

// livePushed finds a live request of clientID. Callers hold mu.
func (s *Store) livePushed(hash, clientID string) (storage.PushedRequest, error) {
	r, ok := s.pushed[hash]
	if !ok || r.ClientID != clientID || !live(r.ExpiresAt, s.now()) {
		return storage.PushedRequest{}, storage.ErrNotFound
	}
	return r, nil
}

// sweepPushed drops expired requests. Callers hold mu.
func (s *Store) sweepPushed(now time.Time) {
	for h, r := range s.pushed {
		if !live(r.ExpiresAt, now) {
			delete(s.pushed, h)
		}
	}
}
