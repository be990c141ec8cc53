package redisstore

import "github.com/redis/go-redis/v9"

// Lua scripts for the operations that must be atomic. Times are Unix
// milliseconds from the store's injected clock (ARGV), never Redis TIME, so
// a fake clock decides validity. Hash fields: r = record JSON, e = expiry,
// u = used marker, p = purpose.
//
// Script results are tables {status, record}: status 0 = not found,
// 1 = ok, 2 = reused.
const (
	statusNotFound = 0
	statusOK       = 1
	statusReused   = 2
)

// consumeCodeScript: KEYS[1] code; ARGV now. The first call marks the code
// used; later calls report reuse until the code expires.
var consumeCodeScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'r', 'e', 'u')
if not v[1] or tonumber(v[2]) <= tonumber(ARGV[1]) then return {0} end
if v[3] then return {2, v[1]} end
redis.call('HSET', KEYS[1], 'u', '1')
return {1, v[1]}
`)

// consumeOneTimeScript: KEYS[1] token; ARGV now, purpose. Deletes and
// returns the record only when live and of the right purpose, so a token
// presented for another purpose stays usable.
var consumeOneTimeScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'r', 'e', 'p')
if not v[1] or tonumber(v[2]) <= tonumber(ARGV[1]) or v[3] ~= ARGV[2] then return {0} end
redis.call('DEL', KEYS[1])
return {1, v[1]}
`)

// Refresh family hash fields: cur = current token hash, t = its record
// JSON, e = its idle expiry, fe = family expiry, u:<hash> = rotated token.

// createRefreshScript: KEYS[1] family; ARGV now, hash, record, expiry,
// family expiry. Refuses (0) while the family has a live current token.
var createRefreshScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'cur', 'e', 'fe')
if v[3] and tonumber(v[3]) <= now then
  redis.call('DEL', KEYS[1])
elseif v[1] and tonumber(v[2]) > now then
  return 0
end
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 't', ARGV[3], 'e', ARGV[4], 'fe', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
return 1
`)

// rotateRefreshScript: KEYS[1] family; ARGV now, old hash, next hash, next
// record, next expiry. A rotated token presented again deletes the family.
var rotateRefreshScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'cur', 't', 'e', 'fe')
if not v[4] or tonumber(v[4]) <= now then return {0} end
if redis.call('HEXISTS', KEYS[1], 'u:' .. ARGV[2]) == 1 then
  redis.call('DEL', KEYS[1])
  return {2}
end
if v[1] ~= ARGV[2] or tonumber(v[3]) <= now then return {0} end
redis.call('HSET', KEYS[1], 'u:' .. ARGV[2], '1', 'cur', ARGV[3], 't', ARGV[4], 'e', ARGV[5])
return {1, v[2]}
`)

// revokeScript: KEYS[1] revocation; ARGV until. Only ever extends.
var revokeScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
end
return 1
`)

// setNotBeforeScript: KEYS[1] entry; ARGV now, t (ms), t (ns, opaque),
// until, spared session. Never moves a live not-before backwards nor
// shortens it; a later (or equal) t replaces the spared session too.
var setNotBeforeScript = redis.NewScript(`
local now, tm, u = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'tm', 'u')
if v[2] and tonumber(v[2]) > now then
  if tonumber(v[2]) > u then u = tonumber(v[2]) end
  if tonumber(v[1]) <= tm then redis.call('HSET', KEYS[1], 'tm', ARGV[2], 't', ARGV[3], 'x', ARGV[5]) end
else
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'tm', ARGV[2], 't', ARGV[3], 'x', ARGV[5])
end
redis.call('HSET', KEYS[1], 'u', u)
redis.call('PEXPIREAT', KEYS[1], u)
return 1
`)
