package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"user-registry/storage"
)

var _ storage.DeviceStore = (*Store)(nil)

// A device grant is a hash under its own tag, so each script touches one
// slot (Redis Cluster): r = the grant as created (JSON), c = client id,
// u = user code, e = expiry, k = keep-until, iv = interval (ms),
// lp = previous poll (absent before the first), st = status, d = the
// decision (JSON). The user code is a separate key naming the device hash,
// alive until the grant expires.
func (s *Store) deviceKey(hash string) string   { return s.prefix + "dev:{" + hash + "}" }
func (s *Store) userCodeKey(code string) string { return s.prefix + "devuc:" + code }

// createDeviceScript: KEYS[1] grant; ARGV record, client, user code,
// expiry, keep-until, interval, status. 0 when the hash is taken.
var createDeviceScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[1], 'c', ARGV[2], 'u', ARGV[3], 'e', ARGV[4], 'k', ARGV[5], 'iv', ARGV[6], 'st', ARGV[7])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
return 1
`)

// deviceStateScript: KEYS[1] grant; ARGV now. {r, st, iv, lp, d} of a
// live grant, {} otherwise.
var deviceStateScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'r', 'k', 'st', 'iv', 'lp', 'd')
if not v[1] or tonumber(v[2]) <= tonumber(ARGV[1]) then return {} end
return {v[1], v[3], tonumber(v[4]), v[5] or '', v[6] or ''}
`)

// decideDeviceScript: KEYS[1] grant; ARGV now, user code, status,
// decision. Only a pending, unexpired grant of that user code changes.
var decideDeviceScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'r', 'e', 'u', 'st', 'iv', 'lp')
if not v[1] or tonumber(v[2]) <= tonumber(ARGV[1]) or v[3] ~= ARGV[2] or v[4] ~= 'pending' then return {} end
redis.call('HSET', KEYS[1], 'st', ARGV[3], 'd', ARGV[4])
return {v[1], ARGV[3], tonumber(v[5]), v[6] or '', ARGV[4]}
`)

// pollDeviceScript: KEYS[1] grant; ARGV now, client id, slow-down step
// (ms). Returns {outcome, r, st, iv, lp, d}: outcome is a
// storage.DevicePoll, or -1 (not found, another client's) or -2
// (redeemed). The rule of storage.PollTooSoon, in whole milliseconds.
var pollDeviceScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'r', 'c', 'e', 'k', 'iv', 'lp', 'st', 'd')
if not v[1] or tonumber(v[4]) <= now or v[2] ~= ARGV[2] then return {-1} end
if v[7] == 'redeemed' then return {-2} end
local iv, st, d = tonumber(v[5]), v[7], v[8] or ''
if tonumber(v[3]) <= now then return {3, v[1], st, iv, v[6] or '', d} end
local out = 0
if not v[6] then
  out = 0
elseif (now - tonumber(v[6])) * 10 < iv * 9 then
  iv = iv + tonumber(ARGV[3])
  out = 1
elseif st == 'denied' then
  out = 2
elseif st == 'approved' then
  st = 'redeemed'
  out = 4
end
redis.call('HSET', KEYS[1], 'lp', ARGV[1], 'iv', iv, 'st', st)
return {out, v[1], st, iv, ARGV[1], d}
`)

// CreateDeviceGrant stores g until g.KeepUntil and its user code until
// g.ExpiresAt. Returns storage.ErrExists when a live grant holds the user
// code or the device hash is taken.
func (s *Store) CreateDeviceGrant(ctx context.Context, g storage.DeviceGrant, now time.Time) error {
	rec, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("redisstore: encode device grant: %w", err)
	}
	ucKey := s.userCodeKey(g.UserCode)
	ok, err := s.client.SetArgs(ctx, ucKey, g.DeviceHash, redis.SetArgs{Mode: "NX", ExpireAt: g.ExpiresAt}).Result()
	if err != nil && !errors.Is(err, redis.Nil) { // Nil: NX found the key
		return wrap(err)
	}
	if ok != "OK" {
		// The code's key outlives its grant when the store's clock says
		// the grant expired before Redis does: reuse it only then.
		old, err := s.client.Get(ctx, ucKey).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return wrap(err)
		}
		prev, err := s.deviceState(ctx, old, now)
		switch {
		case err == nil && now.Before(prev.ExpiresAt):
			return storage.ErrExists
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return err
		}
		if err := s.client.SetArgs(ctx, ucKey, g.DeviceHash, redis.SetArgs{ExpireAt: g.ExpiresAt}).Err(); err != nil {
			return wrap(err)
		}
	}
	n, err := createDeviceScript.Run(ctx, s.client, []string{s.deviceKey(g.DeviceHash)}, rec, g.ClientID, g.UserCode,
		ms(g.ExpiresAt), ms(g.KeepUntil), g.Interval.Milliseconds(), string(storage.DevicePending)).Int()
	if err != nil {
		return wrap(err)
	}
	if n == 0 {
		_ = s.client.Del(ctx, ucKey).Err() // it named the new, unsaved grant
		return storage.ErrExists
	}
	return nil
}

// deviceState loads the live grant stored under hash, with its current
// state, whatever its status or expiry. storage.ErrNotFound otherwise.
func (s *Store) deviceState(ctx context.Context, hash string, now time.Time) (storage.DeviceGrant, error) {
	if hash == "" {
		return storage.DeviceGrant{}, storage.ErrNotFound
	}
	res, err := deviceStateScript.Run(ctx, s.client, []string{s.deviceKey(hash)}, ms(now)).Slice()
	if err != nil {
		return storage.DeviceGrant{}, wrap(err)
	}
	if len(res) < 5 {
		return storage.DeviceGrant{}, storage.ErrNotFound
	}
	return decodeDeviceGrant(res)
}

// DeviceGrantByUserCode returns the pending, unexpired grant of userCode;
// storage.ErrNotFound otherwise.
func (s *Store) DeviceGrantByUserCode(ctx context.Context, userCode string, now time.Time) (storage.DeviceGrant, error) {
	hash, err := s.client.Get(ctx, s.userCodeKey(userCode)).Result()
	if err != nil {
		return storage.DeviceGrant{}, wrap(err)
	}
	g, err := s.deviceState(ctx, hash, now)
	if err != nil {
		return storage.DeviceGrant{}, err
	}
	if g.UserCode != userCode || g.Status != storage.DevicePending || !now.Before(g.ExpiresAt) {
		return storage.DeviceGrant{}, storage.ErrNotFound
	}
	return g, nil
}

// deviceDecision is the stored form of a decision (field d).
type deviceDecision struct {
	UserID    string    `json:"user_id"`
	AuthTime  time.Time `json:"auth_time"`
	SessionID string    `json:"session_id"`
	SID       string    `json:"sid,omitempty"`
	AMR       []string  `json:"amr,omitempty"`
}

// DecideDeviceGrant records d on the pending, unexpired grant of userCode,
// atomically. Returns storage.ErrNotFound when there is none.
func (s *Store) DecideDeviceGrant(ctx context.Context, userCode string, d storage.DeviceDecision, now time.Time) (storage.DeviceGrant, error) {
	hash, err := s.client.Get(ctx, s.userCodeKey(userCode)).Result()
	if err != nil {
		return storage.DeviceGrant{}, wrap(err)
	}
	status, dec := storage.DeviceDenied, deviceDecision{}
	if d.Approve {
		status, dec = storage.DeviceApproved, deviceDecision{UserID: d.UserID, AuthTime: d.AuthTime, SessionID: d.SessionID, SID: d.SID, AMR: d.AMR}
	}
	b, err := json.Marshal(dec)
	if err != nil {
		return storage.DeviceGrant{}, fmt.Errorf("redisstore: encode device decision: %w", err)
	}
	res, err := decideDeviceScript.Run(ctx, s.client, []string{s.deviceKey(hash)}, ms(now), userCode, string(status), b).Slice()
	if err != nil {
		return storage.DeviceGrant{}, wrap(err)
	}
	if len(res) < 5 {
		return storage.DeviceGrant{}, storage.ErrNotFound
	}
	return decodeDeviceGrant(res)
}

// PollDeviceGrant records a poll and returns its outcome (see
// storage.DeviceStore), in one script.
func (s *Store) PollDeviceGrant(ctx context.Context, deviceHash, clientID string, now time.Time, step time.Duration) (storage.DeviceGrant, storage.DevicePoll, error) {
	res, err := pollDeviceScript.Run(ctx, s.client, []string{s.deviceKey(deviceHash)}, ms(now), clientID, step.Milliseconds()).Slice()
	if err != nil {
		return storage.DeviceGrant{}, 0, wrap(err)
	}
	out, _ := res[0].(int64)
	switch {
	case out == -1:
		return storage.DeviceGrant{}, 0, storage.ErrNotFound
	case out == -2:
		return storage.DeviceGrant{}, 0, storage.ErrReused
	case len(res) < 6:
		return storage.DeviceGrant{}, 0, fmt.Errorf("%w: redisstore: short poll result", storage.ErrUnavailable)
	}
	g, err := decodeDeviceGrant(res[1:])
	return g, storage.DevicePoll(out), err
}

// decodeDeviceGrant builds a grant from a script's {r, st, iv, lp, d}:
// the record as created, overlaid with its current state.
func decodeDeviceGrant(res []any) (storage.DeviceGrant, error) {
	var g storage.DeviceGrant
	r, _ := res[0].(string)
	if err := json.Unmarshal([]byte(r), &g); err != nil {
		return storage.DeviceGrant{}, fmt.Errorf("redisstore: decode device grant: %w", err)
	}
	st, _ := res[1].(string)
	iv, _ := res[2].(int64)
	g.Status, g.Interval = storage.DeviceStatus(st), time.Duration(iv)*time.Millisecond
	g.LastPollAt = time.Time{}
	if lp, _ := res[3].(string); lp != "" {
		n, err := strconv.ParseInt(lp, 10, 64)
		if err != nil {
			return storage.DeviceGrant{}, fmt.Errorf("redisstore: decode device poll time: %w", err)
		}
		g.LastPollAt = time.UnixMilli(n).UTC()
	}
	if d, _ := res[4].(string); d != "" {
		var dec deviceDecision
		if err := json.Unmarshal([]byte(d), &dec); err != nil {
			return storage.DeviceGrant{}, fmt.Errorf("redisstore: decode device decision: %w", err)
		}
		g.UserID, g.AuthTime, g.SessionID = dec.UserID, dec.AuthTime, dec.SessionID
		g.SID, g.AMR = dec.SID, dec.AMR
	}
	return g, nil
}
