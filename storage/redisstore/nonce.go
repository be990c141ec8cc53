package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// useOnceScript: KEYS[1] nonce; ARGV now, until (Unix ms). Returns 1 and
// stores the key until `until` when it is not live, else 0. One script, so
// of two nodes racing with one key exactly one sees 1. The stored value is
// the expiry, compared with the store's clock like every other entry; the
// key also expires in Redis then (PXAT), so nothing is left behind.
var useOnceScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[2])
return 1
`)

// UseOnce records key until `until` and reports whether this was its first
// use while live, on every node sharing this Redis.
func (s *Store) UseOnce(ctx context.Context, key string, until time.Time) (bool, error) {
	n, err := useOnceScript.Run(ctx, s.client, []string{s.prefix + "once:" + key}, ms(s.now()), ms(until)).Int()
	if err != nil {
		return false, wrap(err)
	}
	return n == 1, nil
}
