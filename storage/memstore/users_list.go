package memstore

import (
	"context"
	"slices"
	"strings"

	"user-registry/storage"
)

// ListUsers returns at most f.Limit users matching f, newest first
// (CreatedAt, then ID, descending), after f.Cursor. It sorts every match
// on each call: the in-process store is for tests and one-node setups.
func (s *Store) ListUsers(_ context.Context, f storage.UserFilter) ([]storage.User, error) {
	if f.Limit <= 0 {
		return []storage.User{}, nil
	}
	q := strings.ToLower(f.Query)
	s.mu.Lock()
	var match []storage.User
	for _, u := range s.users {
		if f.Domain != "" && u.Domain != f.Domain {
			continue
		}
		if q != "" && !strings.Contains(u.EmailCanonical, q) {
			continue
		}
		if !f.Cursor.IsZero() && !olderThan(u, f.Cursor) {
			continue
		}
		match = append(match, u)
	}
	s.mu.Unlock()
	slices.SortFunc(match, func(a, b storage.User) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if len(match) > f.Limit {
		match = match[:f.Limit]
	}
	if match == nil {
		match = []storage.User{}
	}
	return match, nil
}

// olderThan reports whether u comes after cursor c in newest-first order.
func olderThan(u storage.User, c storage.UserCursor) bool {
	if !u.CreatedAt.Equal(c.CreatedAt) {
		return u.CreatedAt.Before(c.CreatedAt)
	}
	return u.ID < c.ID
}
