package memstore

import (
	"context"
	"slices"
	"sort"

	"user-registry/storage"
)

// CreateTrust returns storage.ErrExists when t.ID is taken.
func (s *Store) CreateTrust(_ context.Context, t *storage.Trust) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.trusts[t.ID]; ok {
		return storage.ErrExists
	}
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	s.trusts[t.ID] = c
	return nil
}

// ListTrusts returns copies of every trust, by creation time then id.
func (s *Store) ListTrusts(context.Context) ([]storage.Trust, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.Trust, 0, len(s.trusts))
	for _, t := range s.trusts {
		t.Scopes = slices.Clone(t.Scopes)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// DeleteTrust returns storage.ErrNotFound for an unknown id.
func (s *Store) DeleteTrust(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.trusts[id]; !ok {
		return storage.ErrNotFound
	}
	delete(s.trusts, id)
	return nil
}
