package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"user-registry/storage"
)

// A family is one Redis hash (see scripts.go for its fields) that expires
// with the family. Rotated tokens leave only a small "used" marker, kept so
// reuse is detected for the family's whole life.

// CreateRefresh stores the first token of a new family, or the token of a
// family that has no live current token. Returns storage.ErrExists when the
// family already has one.
func (s *Store) CreateRefresh(ctx context.Context, t storage.RefreshToken) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("redisstore: encode refresh token: %w", err)
	}
	n, err := createRefreshScript.Run(ctx, s.client, []string{s.familyKey(t.FamilyID)},
		ms(s.now()), t.Hash, b, ms(t.ExpiresAt), ms(t.FamilyExpiresAt)).Int64()
	if err != nil {
		return wrap(err)
	}
	if n == 0 {
		return storage.ErrExists
	}
	return nil
}

// RotateRefresh atomically replaces the current token oldHash of familyID by
// next and returns the old record. An already rotated token deletes the
// family and gives storage.ErrReused; unknown, expired or revoked tokens give
// storage.ErrNotFound. next.FamilyID is forced to familyID; the family keeps
// its original absolute expiry.
func (s *Store) RotateRefresh(ctx context.Context, familyID, oldHash string, next storage.RefreshToken) (storage.RefreshToken, error) {
	next.FamilyID = familyID
	b, err := json.Marshal(next)
	if err != nil {
		return storage.RefreshToken{}, fmt.Errorf("redisstore: encode refresh token: %w", err)
	}
	var old storage.RefreshToken
	status, err := s.runScript(ctx, rotateRefreshScript, []string{s.familyKey(familyID)}, &old,
		ms(s.now()), oldHash, next.Hash, b, ms(next.ExpiresAt))
	switch {
	case err != nil:
		return storage.RefreshToken{}, err
	case status == statusOK:
		return old, nil
	case status == statusReused:
		return storage.RefreshToken{}, storage.ErrReused
	default:
		return storage.RefreshToken{}, storage.ErrNotFound
	}
}

// RefreshToken returns the record of the family's current token if it is
// hash and still valid. Returns storage.ErrNotFound otherwise.
func (s *Store) RefreshToken(ctx context.Context, familyID, hash string) (storage.RefreshToken, error) {
	v, err := s.client.HMGet(ctx, s.familyKey(familyID), "cur", "t", "e", "fe").Result()
	if err != nil {
		return storage.RefreshToken{}, wrap(err)
	}
	cur, _ := v[0].(string)
	rec, _ := v[1].(string)
	now := ms(s.now())
	if cur == "" || cur != hash || !liveMS(v[2], now) || !liveMS(v[3], now) {
		return storage.RefreshToken{}, storage.ErrNotFound
	}
	var t storage.RefreshToken
	if err := json.Unmarshal([]byte(rec), &t); err != nil {
		return storage.RefreshToken{}, fmt.Errorf("redisstore: decode refresh token: %w", err)
	}
	return t, nil
}

// RevokeFamily deletes every token of the family. Idempotent.
func (s *Store) RevokeFamily(ctx context.Context, familyID string) error {
	return wrap(s.client.Del(ctx, s.familyKey(familyID)).Err())
}

// liveMS reports whether a stored millisecond expiry (a string reply, or
// nil when missing) is after now.
func liveMS(v any, now int64) bool {
	str, ok := v.(string)
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(str, 10, 64)
	return err == nil && now < exp
}
