package memstore

import (
	"context"
	"time"

	"user-registry/storage"
)

// family is one refresh-token family: the current token, plus the hashes of
// tokens already rotated away, kept so that presenting one of them is
// recognised as reuse (and kills the family) rather than as unknown.
type family struct {
	current   *storage.RefreshToken // nil after creation failed or never set
	used      map[string]struct{}
	expiresAt time.Time // absolute expiry of the family
}

// alive reports whether the family still matters at now: its absolute
// expiry has not passed.
func (f *family) alive(now time.Time) bool { return live(f.expiresAt, now) }

// currentAt returns the current token if it is still valid at now.
func (f *family) currentAt(now time.Time) (storage.RefreshToken, bool) {
	if f.current == nil || !f.alive(now) || !live(f.current.ExpiresAt, now) {
		return storage.RefreshToken{}, false
	}
	return *f.current, true
}

// CreateRefresh stores the first token of a new family, or the token of an
// existing family that has no valid current token. Returns storage.ErrExists
// when the family already has a valid current token.
func (s *Store) CreateRefresh(_ context.Context, t storage.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.families[t.FamilyID]
	if f != nil && f.alive(now) {
		if _, ok := f.currentAt(now); ok {
			return storage.ErrExists
		}
	} else {
		f = &family{used: map[string]struct{}{}}
		s.families[t.FamilyID] = f
	}
	tok := t
	f.current = &tok
	f.expiresAt = t.FamilyExpiresAt
	s.wrote(now)
	return nil
}

// RotateRefresh replaces the current token oldHash of familyID by next and
// returns the old record. Presenting an already rotated token deletes the
// family and returns storage.ErrReused; unknown, expired or revoked tokens
// give storage.ErrNotFound. next.FamilyID is forced to familyID.
func (s *Store) RotateRefresh(_ context.Context, familyID, oldHash string, next storage.RefreshToken) (storage.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.families[familyID]
	if f == nil || !f.alive(now) {
		return storage.RefreshToken{}, storage.ErrNotFound
	}
	if _, reused := f.used[oldHash]; reused {
		delete(s.families, familyID)
		return storage.RefreshToken{}, storage.ErrReused
	}
	cur, ok := f.currentAt(now)
	if !ok || cur.Hash != oldHash {
		return storage.RefreshToken{}, storage.ErrNotFound
	}
	f.used[oldHash] = struct{}{}
	next.FamilyID = familyID
	f.current = &next
	s.wrote(now)
	return cur, nil
}

// RefreshToken returns the record of a current, valid token without
// rotating it. Returns storage.ErrNotFound otherwise.
func (s *Store) RefreshToken(_ context.Context, familyID, hash string) (storage.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.families[familyID]
	if f == nil {
		return storage.RefreshToken{}, storage.ErrNotFound
	}
	cur, ok := f.currentAt(s.now())
	if !ok || cur.Hash != hash {
		return storage.RefreshToken{}, storage.ErrNotFound
	}
	return cur, nil
}

// RevokeFamily deletes every token of the family. Idempotent.
func (s *Store) RevokeFamily(_ context.Context, familyID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.families, familyID)
	return nil
}
