package memstore

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"user-registry/storage"
)

var (
	_ storage.PasskeyStore          = (*Store)(nil)
	_ storage.PasskeyChallengeStore = (*Store)(nil)
)

// clonePasskey copies p's slices and pointer so that neither the caller nor
// the store can change the other's copy through shared memory.
func clonePasskey(p storage.Passkey) storage.Passkey {
	p.CredentialID = slices.Clone(p.CredentialID)
	p.Credential = slices.Clone(p.Credential)
	if p.LastUsedAt != nil {
		at := p.LastUsedAt.UTC()
		p.LastUsedAt = &at
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return p
}

// CreatePasskey stores p. A credential id is unique across users, as the
// database's unique index makes it.
func (s *Store) CreatePasskey(_ context.Context, p storage.Passkey) error {
	if p.ID == "" || p.UserID == "" || len(p.CredentialID) == 0 {
		return errors.New("memstore: create passkey: empty id, user id or credential id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cred := string(p.CredentialID)
	if _, ok := s.passkeyCreds[cred]; ok {
		return storage.ErrExists
	}
	if _, ok := s.passkeys[p.ID]; ok {
		return storage.ErrExists
	}
	s.passkeys[p.ID] = clonePasskey(p)
	s.passkeyCreds[cred] = p.ID
	return nil
}

// Passkeys lists the user's passkeys, oldest first.
func (s *Store) Passkeys(_ context.Context, userID string) ([]storage.Passkey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.Passkey
	for _, p := range s.passkeys {
		if p.UserID == userID {
			out = append(out, clonePasskey(p))
		}
	}
	slices.SortFunc(out, func(a, b storage.Passkey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// PasskeyByCredentialID finds a passkey by the authenticator's id.
func (s *Store) PasskeyByCredentialID(_ context.Context, credentialID []byte) (storage.Passkey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.passkeyCreds[string(credentialID)]
	if !ok {
		return storage.Passkey{}, storage.ErrNotFound
	}
	return clonePasskey(s.passkeys[id]), nil
}

// CountPasskeys counts the user's passkeys.
func (s *Store) CountPasskeys(_ context.Context, userID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.passkeys {
		if p.UserID == userID {
			n++
		}
	}
	return n, nil
}

// UsePasskey is the compare-and-set of the sign count, under the lock.
func (s *Store) UsePasskey(_ context.Context, id string, signCount uint32, backupState bool, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.passkeys[id]
	if !ok {
		return storage.ErrNotFound
	}
	if signCount <= p.SignCount && (signCount != 0 || p.SignCount != 0) {
		return storage.ErrConflict
	}
	at = at.UTC()
	p.SignCount, p.BackupState, p.LastUsedAt = signCount, backupState, &at
	s.passkeys[id] = p
	return nil
}

// DeletePasskey removes the user's passkey id.
func (s *Store) DeletePasskey(_ context.Context, userID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.passkeys[id]
	if !ok || p.UserID != userID {
		return storage.ErrNotFound
	}
	delete(s.passkeys, id)
	delete(s.passkeyCreds, string(p.CredentialID))
	return nil
}

// DeletePasskeys removes every passkey of the user.
func (s *Store) DeletePasskeys(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletePasskeys(userID)
	return nil
}

// deletePasskeys removes the user's passkeys. Callers hold mu.
func (s *Store) deletePasskeys(userID string) {
	for id, p := range s.passkeys {
		if p.UserID == userID {
			delete(s.passkeys, id)
			delete(s.passkeyCreds, string(p.CredentialID))
		}
	}
}

// SavePasskeyChallenge stores c until c.ExpiresAt, replacing one with its
// key.
func (s *Store) SavePasskeyChallenge(_ context.Context, c storage.PasskeyChallenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c.Session = slices.Clone(c.Session)
	s.ceremonies[c.Key] = c
	s.wrote(now)
	return nil
}

// TakePasskeyChallenge returns and deletes a live challenge under the lock,
// so one caller gets it.
func (s *Store) TakePasskeyChallenge(_ context.Context, key string) (storage.PasskeyChallenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.ceremonies[key]
	if !ok {
		return storage.PasskeyChallenge{}, storage.ErrNotFound
	}
	// An expired one is dead either way; dropping it now saves the sweep.
	delete(s.ceremonies, key)
	if !live(c.ExpiresAt, s.now()) {
		return storage.PasskeyChallenge{}, storage.ErrNotFound
	}
	// The stored copy is gone, so its slice is the caller's now.
	return c, nil
}
