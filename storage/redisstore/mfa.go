package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"user-registry/storage"
)

var _ storage.MFAChallengeStore = (*Store)(nil)

// A sign-in challenge is a hash (fields r = record JSON, e = expiry, f =
// failures) that Redis drops at its expiry. The scripts below change it
// atomically, so a node counting a wrong code and another finishing the
// sign-in never both win.

// failChallengeScript: KEYS[1] challenge; ARGV now, max. Returns -1 for a
// dead challenge, else the failures counted; the max-th deletes it.
var failChallengeScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'r', 'e')
if not v[1] or tonumber(v[2]) <= tonumber(ARGV[1]) then return -1 end
local n = redis.call('HINCRBY', KEYS[1], 'f', 1)
if n >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) end
return n
`)

// consumeChallengeScript: KEYS[1] challenge; ARGV now. Deletes and
// returns a live challenge.
var consumeChallengeScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'r', 'e')
if not v[1] or tonumber(v[2]) <= tonumber(ARGV[1]) then return {0} end
redis.call('DEL', KEYS[1])
return {1, v[1]}
`)

func (s *Store) challengeKey(hash string) string { return s.prefix + "mfa:{" + hash + "}" }

// SaveMFAChallenge stores c until c.ExpiresAt.
func (s *Store) SaveMFAChallenge(ctx context.Context, c storage.MFAChallenge) error {
	return s.setRecord(ctx, "mfa challenge", s.challengeKey(c.Hash), c, c.ExpiresAt, "f", c.Failures)
}

// MFAChallenge returns a live challenge with its failure count.
func (s *Store) MFAChallenge(ctx context.Context, hash string) (storage.MFAChallenge, error) {
	v, err := s.client.HMGet(ctx, s.challengeKey(hash), "r", "e", "f").Result()
	if err != nil {
		return storage.MFAChallenge{}, wrap(err)
	}
	rec, _ := v[0].(string)
	if rec == "" || !liveMS(v[1], ms(s.now())) {
		return storage.MFAChallenge{}, storage.ErrNotFound
	}
	var c storage.MFAChallenge
	if err := json.Unmarshal([]byte(rec), &c); err != nil {
		return storage.MFAChallenge{}, fmt.Errorf("redisstore: decode mfa challenge: %w", err)
	}
	if f, ok := v[2].(string); ok {
		c.Failures, _ = strconv.Atoi(f)
	}
	return c, nil
}

// FailMFAChallenge counts a wrong code (see failChallengeScript).
func (s *Store) FailMFAChallenge(ctx context.Context, hash string, max int) (int, error) {
	n, err := failChallengeScript.Run(ctx, s.client, []string{s.challengeKey(hash)}, ms(s.now()), max).Int64()
	if err != nil {
		return 0, wrap(err)
	}
	if n < 0 {
		return 0, storage.ErrNotFound
	}
	return int(n), nil
}

// ConsumeMFAChallenge deletes and returns a live challenge.
func (s *Store) ConsumeMFAChallenge(ctx context.Context, hash string) (storage.MFAChallenge, error) {
	var c storage.MFAChallenge
	status, err := s.runScript(ctx, consumeChallengeScript, []string{s.challengeKey(hash)}, &c, ms(s.now()))
	if err != nil {
		return storage.MFAChallenge{}, err
	}
	if status != statusOK {
		return storage.MFAChallenge{}, storage.ErrNotFound
	}
	return c, nil
}
