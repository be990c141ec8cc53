package memstore

import (
	"context"
	"sort"

	"user-registry/storage"
)

// CreateUser inserts u. Returns storage.ErrExists when u.ID or
// u.EmailCanonical is taken.
func (s *Store) CreateUser(_ context.Context, u *storage.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.emails[u.EmailCanonical]; ok {
		return storage.ErrExists
	}
	if _, ok := s.users[u.ID]; ok {
		return storage.ErrExists
	}
	stored := *u
	if u.LastLoginAt != nil {
		t := u.LastLoginAt.UTC()
		stored.LastLoginAt = &t
	}
	s.users[u.ID] = stored
	s.emails[u.EmailCanonical] = u.ID
	return nil
}

// UserByID returns storage.ErrNotFound for an unknown id.
func (s *Store) UserByID(_ context.Context, id string) (storage.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return storage.User{}, storage.ErrNotFound
	}
	return u, nil
}

// UserByEmail looks up by canonical email; returns storage.ErrNotFound.
func (s *Store) UserByEmail(_ context.Context, canonical string) (storage.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.emails[canonical]
	if !ok {
		return storage.User{}, storage.ErrNotFound
	}
	return s.users[id], nil
}

// UpdateUser writes the fields c names, and UpdatedAt (zero: now), under
// the store's lock, so the precondition c.IfPasswordHash and the write are
// one step. Returns storage.ErrNotFound or storage.ErrConflict.
func (s *Store) UpdateUser(_ context.Context, id string, c storage.UserChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return storage.ErrNotFound
	}
	if c.IfPasswordHash != nil && u.PasswordHash != *c.IfPasswordHash {
		return storage.ErrConflict
	}
	if c.PasswordHash != nil {
		u.PasswordHash = *c.PasswordHash
	}
	if c.PhoneNum != nil {
		u.PhoneNum = *c.PhoneNum
	}
	if c.Discoverable != nil {
		u.Discoverable = *c.Discoverable
	}
	if c.IsActivated != nil {
		u.IsActivated = *c.IsActivated
	}
	if c.Disabled != nil {
		u.Disabled = *c.Disabled
	}
	if c.LastLoginAt != nil {
		t := c.LastLoginAt.UTC()
		u.LastLoginAt = &t
	}
	if !storage.OnlyLastLogin(c) {
		u.UpdatedAt = c.UpdatedAt
		if u.UpdatedAt.IsZero() {
			u.UpdatedAt = s.now().UTC()
		}
	}
	s.users[id] = u
	return nil
}

// DeleteUser removes the user. Returns storage.ErrNotFound.
func (s *Store) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return storage.ErrNotFound
	}
	delete(s.users, id)
	delete(s.emails, u.EmailCanonical)
	delete(s.totp, id)
	delete(s.recovery, id)
	s.deletePasskeys(id)
	return nil
}

// PutDomain creates or replaces the record for r.Domain.
func (s *Store) PutDomain(_ context.Context, r storage.DomainRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domains[r.Domain] = r
	return nil
}

// DeleteDomain returns storage.ErrNotFound when there is no record.
func (s *Store) DeleteDomain(_ context.Context, domain string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.domains[domain]; !ok {
		return storage.ErrNotFound
	}
	delete(s.domains, domain)
	return nil
}

// ListDomains returns every record, ordered by domain.
func (s *Store) ListDomains(context.Context) ([]storage.DomainRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.DomainRecord, 0, len(s.domains))
	for _, r := range s.domains {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out, nil
}
