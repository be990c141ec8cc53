package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"user-registry/storage"
)

var _ storage.PasskeyChallengeStore = (*Store)(nil)

// A WebAuthn ceremony is one string key holding the challenge's JSON
// (Session as base64, so any bytes round-trip), with a real expiry at
// ExpiresAt. Taking it is GETDEL (Redis ≥ 6.2): one command on one key, so
// it is atomic on a single node, behind Sentinel and on Cluster, and of
// concurrent takes exactly one sees the value. Validity is then decided by
// the store's clock against the ExpiresAt in the value, as for every other
// item here; an expired ceremony taken that way is gone, which is what it
// should be anyway.

func (s *Store) passkeyChallengeKey(key string) string { return s.prefix + "pkc:" + key }

// SavePasskeyChallenge stores c until c.ExpiresAt, replacing one with its
// key (SET replaces the value and its expiry in one command).
func (s *Store) SavePasskeyChallenge(ctx context.Context, c storage.PasskeyChallenge) error {
	key := s.passkeyChallengeKey(c.Key)
	if !c.ExpiresAt.After(s.now()) {
		// Dead on arrival, yet it still replaces a live one. PXAT would
		// refuse a zero or pre-1970 time, so delete instead.
		return wrap(s.client.Del(ctx, key).Err())
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisstore: encode passkey challenge: %w", err)
	}
	return wrap(s.client.Do(ctx, "SET", key, b, "PXAT", ms(c.ExpiresAt)).Err())
}

// TakePasskeyChallenge deletes and returns a live challenge.
func (s *Store) TakePasskeyChallenge(ctx context.Context, key string) (storage.PasskeyChallenge, error) {
	b, err := s.client.GetDel(ctx, s.passkeyChallengeKey(key)).Bytes()
	if err != nil {
		return storage.PasskeyChallenge{}, wrap(err) // redis.Nil: storage.ErrNotFound
	}
	var c storage.PasskeyChallenge
	if err := json.Unmarshal(b, &c); err != nil {
		return storage.PasskeyChallenge{}, fmt.Errorf("redisstore: decode passkey challenge: %w", err)
	}
	if !c.ExpiresAt.After(s.now()) {
		return storage.PasskeyChallenge{}, storage.ErrNotFound
	}
	return c, nil
}
