package memstore

import (
	"context"
	"errors"
	"slices"

	"user-registry/storage"
)

var (
	_ storage.MFAStore          = (*Store)(nil)
	_ storage.MFAChallengeStore = (*Store)(nil)
)

// CreateTOTP stores f as the user's pending factor.
func (s *Store) CreateTOTP(_ context.Context, f storage.TOTPFactor) error {
	if f.UserID == "" {
		return errors.New("memstore: create totp: empty user id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.totp[f.UserID]; ok && old.Confirmed {
		return storage.ErrExists
	}
	f.Confirmed = false
	f.Secret = slices.Clone(f.Secret)
	f.CreatedAt = f.CreatedAt.UTC()
	s.totp[f.UserID] = f
	return nil
}

// TOTP returns the user's factor.
func (s *Store) TOTP(_ context.Context, userID string) (storage.TOTPFactor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.totp[userID]
	if !ok {
		return storage.TOTPFactor{}, storage.ErrNotFound
	}
	f.Secret = slices.Clone(f.Secret)
	return f, nil
}

// ConfirmTOTP confirms the pending factor and takes step, under the lock.
func (s *Store) ConfirmTOTP(_ context.Context, userID string, step int64) error {
	return s.takeStep(userID, step, false)
}

// UseTOTPStep is the compare-and-set of LastStep, under the lock.
func (s *Store) UseTOTPStep(_ context.Context, userID string, step int64) error {
	return s.takeStep(userID, step, true)
}

// takeStep sets LastStep to step if it is later, on a factor whose
// Confirmed is confirmed; it confirms a pending one.
func (s *Store) takeStep(userID string, step int64, confirmed bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.totp[userID]
	if !ok || f.Confirmed != confirmed {
		return storage.ErrNotFound
	}
	if f.LastStep >= step {
		return storage.ErrConflict
	}
	f.LastStep, f.Confirmed = step, true
	s.totp[userID] = f
	return nil
}

// DeleteTOTP removes the factor.
func (s *Store) DeleteTOTP(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.totp[userID]; !ok {
		return storage.ErrNotFound
	}
	delete(s.totp, userID)
	return nil
}

// ReplaceRecoveryCodes swaps the user's set.
func (s *Store) ReplaceRecoveryCodes(_ context.Context, userID string, hashes []string) error {
	set := make(map[string]struct{}, len(hashes))
	for _, h := range hashes {
		set[h] = struct{}{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recovery[userID] = set
	return nil
}

// UseRecoveryCode deletes the code under the lock: one caller finds it.
func (s *Store) UseRecoveryCode(_ context.Context, userID, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.recovery[userID]
	if _, ok := set[hash]; !ok {
		return storage.ErrNotFound
	}
	delete(set, hash)
	return nil
}

// RecoveryCodesLeft counts the user's codes.
func (s *Store) RecoveryCodesLeft(_ context.Context, userID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recovery[userID]), nil
}

// DeleteRecoveryCodes removes the user's codes.
func (s *Store) DeleteRecoveryCodes(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recovery, userID)
	return nil
}

// SaveMFAChallenge stores c until c.ExpiresAt.
func (s *Store) SaveMFAChallenge(_ context.Context, c storage.MFAChallenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.challenges[c.Hash] = c
	s.wrote(now)
	return nil
}

// MFAChallenge returns a live challenge.
func (s *Store) MFAChallenge(_ context.Context, hash string) (storage.MFAChallenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.challenges[hash]
	if !ok || !live(c.ExpiresAt, s.now()) {
		return storage.MFAChallenge{}, storage.ErrNotFound
	}
	return c, nil
}

// FailMFAChallenge counts a failure; the max-th deletes the challenge.
func (s *Store) FailMFAChallenge(_ context.Context, hash string, max int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.challenges[hash]
	if !ok || !live(c.ExpiresAt, s.now()) {
		return 0, storage.ErrNotFound
	}
	c.Failures++
	if c.Failures >= max {
		delete(s.challenges, hash)
	} else {
		s.challenges[hash] = c
	}
	return c.Failures, nil
}

// ConsumeMFAChallenge returns and deletes a live challenge.
func (s *Store) ConsumeMFAChallenge(_ context.Context, hash string) (storage.MFAChallenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.challenges[hash]
	if !ok || !live(c.ExpiresAt, s.now()) {
		return storage.MFAChallenge{}, storage.ErrNotFound
	}
	delete(s.challenges, hash)
	return c, nil
}
