package memstore

import (
	"context"
	"slices"

	"user-registry/storage"
)

// codeEntry is a stored authorization code and whether it was consumed. A
// used code is kept until it expires so a replay can be told apart from an
// unknown code (the caller then revokes what the code minted).
type codeEntry struct {
	code storage.AuthCode
	used bool
}

// CreateSession stores sess until sess.ExpiresAt.
func (s *Store) CreateSession(_ context.Context, sess storage.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	sess.CSRFKey = slices.Clone(sess.CSRFKey)
	s.sessions[sess.ID] = sess
	s.wrote(now)
	return nil
}

// Session returns storage.ErrNotFound for an unknown or expired id.
func (s *Store) Session(_ context.Context, id string) (storage.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || !live(sess.ExpiresAt, s.now()) {
		return storage.Session{}, storage.ErrNotFound
	}
	sess.CSRFKey = slices.Clone(sess.CSRFKey)
	return sess, nil
}

// DeleteSession is idempotent.
func (s *Store) DeleteSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
	return nil
}

// SaveCode stores c until c.ExpiresAt.
func (s *Store) SaveCode(_ context.Context, c storage.AuthCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.codes[c.Hash] = &codeEntry{code: c}
	s.wrote(now)
	return nil
}

// ConsumeCode returns the code and marks it used. A used, unexpired code is
// returned with storage.ErrReused; unknown or expired codes give
// storage.ErrNotFound.
func (s *Store) ConsumeCode(_ context.Context, hash string) (storage.AuthCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[hash]
	if !ok || !live(e.code.ExpiresAt, s.now()) {
		return storage.AuthCode{}, storage.ErrNotFound
	}
	if e.used {
		return e.code, storage.ErrReused
	}
	e.used = true
	return e.code, nil
}

// SaveConsent stores c until c.ExpiresAt, replacing an earlier one.
func (s *Store) SaveConsent(_ context.Context, c storage.Consent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	m := s.consents[c.UserID]
	if m == nil {
		m = map[string]storage.Consent{}
		s.consents[c.UserID] = m
	}
	c.Scopes = slices.Clone(c.Scopes)
	m[c.ClientID] = c
	s.wrote(now)
	return nil
}

// Consent returns storage.ErrNotFound when the user has no live consent for
// the client.
func (s *Store) Consent(_ context.Context, userID, clientID string) (storage.Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.consents[userID][clientID]
	if !ok || !live(c.ExpiresAt, s.now()) {
		return storage.Consent{}, storage.ErrNotFound
	}
	c.Scopes = slices.Clone(c.Scopes)
	return c, nil
}

// DeleteUserConsents forgets every consent of the user.
func (s *Store) DeleteUserConsents(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.consents, userID)
	return nil
}

// SaveOneTimeToken stores t until t.ExpiresAt.
func (s *Store) SaveOneTimeToken(_ context.Context, t storage.OneTimeToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.oneTime[t.Hash] = t
	s.wrote(now)
	return nil
}

// ConsumeOneTimeToken returns and deletes the token if its purpose matches.
// A token presented for another purpose is left untouched. Returns
// storage.ErrNotFound for unknown, expired or mismatched tokens.
func (s *Store) ConsumeOneTimeToken(_ context.Context, hash, purpose string) (storage.OneTimeToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.oneTime[hash]
	if !ok || t.Purpose != purpose || !live(t.ExpiresAt, s.now()) {
		return storage.OneTimeToken{}, storage.ErrNotFound
	}
	delete(s.oneTime, hash)
	return t, nil
}
