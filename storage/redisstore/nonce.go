package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"user-registry/storage"
)

var _ storage.NonceStore = (*Store)(nil)

// useOnceScript: KEYS[1] nonce; ARGV now, until (Unix ms). Like SET NX PXAT,
// but an entry counts as taken only while its until is after the store's
// clock (ARGV, as every script here), so a fake clock decides validity and
// an entry Redis has not yet expired never outlives its until. Returns 1
// for the first use, 0 otherwise.
var useOnceScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[2])
return 1
`)

// UseOnce records key until `until` and reports whether this call was the
// first: one atomic script, so of concurrent calls on any number of nodes
// exactly one is first. Errors wrap storage.ErrUnavailable.
func (s *Store) UseOnce(ctx context.Context, key string, until time.Time) (bool, error) {
	now := s.now()
	if !until.After(now) {
		// Already expired: nothing to remember, and PXAT in the past
		// would delete the key at once anyway.
		return true, nil
	}
	n, err := useOnceScript.Run(ctx, s.client, []string{s.nonceKey(key)}, ms(now), ms(until)).Int64()
	if err != nil {
		return false, wrap(err)
	}
	return n == 1, nil
}

func (s *Store) nonceKey(key string) string { return s.prefix + "once:" + key }
