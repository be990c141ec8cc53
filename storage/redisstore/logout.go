package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"user-registry/storage"
)

var _ storage.LogoutStore = (*Store)(nil)

// Key layout of back-channel logout. A user's sessions are one hash, a
// session's clients one set, a family's session one string; the queue is a
// sorted set of ids by due time (ms) and a hash of items, both under the
// hash tag {lo}, so the claim script runs on Cluster too.
func (s *Store) loUserKey(userID string) string { return s.prefix + "lo:u:{" + userID + "}" }
func (s *Store) loClientsKey(sid string) string { return s.prefix + "lo:c:{" + sid + "}" }
func (s *Store) loFamilyKey(fam string) string  { return s.prefix + "lo:f:" + fam }
func (s *Store) loQueueKey() string             { return s.prefix + "{lo}:q" }
func (s *Store) loItemsKey() string             { return s.prefix + "{lo}:i" }
func (s *Store) loExtend(ctx context.Context, p redis.Pipeliner, key string, until time.Time) {
	// NX sets a first expiry; GT only ever extends it (Redis ≥ 7).
	p.Do(ctx, "PEXPIREAT", key, ms(until), "NX")
	p.Do(ctx, "PEXPIREAT", key, ms(until), "GT")
}

// TrackSession records r under its user until r.Keep.
func (s *Store) TrackSession(ctx context.Context, r storage.SessionRef) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redisstore: encode session ref: %w", err)
	}
	key := s.loUserKey(r.UserID)
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, r.SID, b)
		s.loExtend(ctx, p, key, r.Keep)
		return nil
	})
	return wrap(err)
}

// UserSessions returns the kept sessions of userID; expired entries are
// removed on the way.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]storage.SessionRef, error) {
	key := s.loUserKey(userID)
	m, err := s.client.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, wrap(err)
	}
	now := s.now()
	var out []storage.SessionRef
	var stale []string
	for sid, v := range m {
		var r storage.SessionRef
		if json.Unmarshal([]byte(v), &r) != nil || !now.Before(r.Keep) {
			stale = append(stale, sid)
			continue
		}
		out = append(out, r)
	}
	if len(stale) > 0 {
		if err := s.client.HDel(ctx, key, stale...).Err(); err != nil {
			return nil, wrap(err)
		}
	}
	return out, nil
}

// AddSessionClient records c in session r and indexes its family.
func (s *Store) AddSessionClient(ctx context.Context, r storage.SessionRef, c storage.SessionClient) error {
	cb, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisstore: encode session client: %w", err)
	}
	rb, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redisstore: encode session ref: %w", err)
	}
	// Two keys in different slots: two round trips, each atomic. The
	// family index is written first, so a session seen with a client
	// always resolves from its family.
	if c.FamilyID != "" {
		if err := s.setJSONRaw(ctx, s.loFamilyKey(c.FamilyID), rb, r.Keep); err != nil {
			return err
		}
	}
	key := s.loClientsKey(r.SID)
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, key, cb)
		s.loExtend(ctx, p, key, r.Keep)
		return nil
	})
	return wrap(err)
}

func (s *Store) setJSONRaw(ctx context.Context, key string, b []byte, until time.Time) error {
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key, b, 0)
		p.PExpireAt(ctx, key, until)
		return nil
	})
	return wrap(err)
}

// FamilySession returns the session of a family, storage.ErrNotFound
// when none is kept.
func (s *Store) FamilySession(ctx context.Context, familyID string) (storage.SessionRef, error) {
	var r storage.SessionRef
	if err := s.getJSON(ctx, s.loFamilyKey(familyID), &r); err != nil {
		return storage.SessionRef{}, err
	}
	if !s.now().Before(r.Keep) {
		return storage.SessionRef{}, storage.ErrNotFound
	}
	return r, nil
}

// takeClientsScript: KEYS[1] the session's client set. Returns and deletes
// it in one step, so only one caller gets the members.
var takeClientsScript = redis.NewScript(`
local m = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return m
`)

// TakeSessionClients returns and forgets the clients of session r.
func (s *Store) TakeSessionClients(ctx context.Context, r storage.SessionRef) ([]storage.SessionClient, error) {
	members, err := takeClientsScript.Run(ctx, s.client, []string{s.loClientsKey(r.SID)}).StringSlice()
	if err != nil {
		return nil, wrap(err)
	}
	if err := s.client.HDel(ctx, s.loUserKey(r.UserID), r.SID).Err(); err != nil {
		return nil, wrap(err)
	}
	out := make([]storage.SessionClient, 0, len(members))
	for _, m := range members {
		var c storage.SessionClient
		if err := json.Unmarshal([]byte(m), &c); err != nil {
			return nil, fmt.Errorf("redisstore: decode session client: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// EnqueueLogout adds d to the queue, due at d.NextAt.
func (s *Store) EnqueueLogout(ctx context.Context, d storage.LogoutDelivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("redisstore: encode logout delivery: %w", err)
	}
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.loItemsKey(), d.ID, b)
		p.ZAdd(ctx, s.loQueueKey(), redis.Z{Score: float64(ms(d.NextAt)), Member: d.ID})
		// The queue outlives its items' deadlines by a day at most, so
		// Redis frees it even if no worker ever runs again.
		s.loExtend(ctx, p, s.loQueueKey(), d.Deadline.Add(24*time.Hour))
		s.loExtend(ctx, p, s.loItemsKey(), d.Deadline.Add(24*time.Hour))
		return nil
	})
	return wrap(err)
}

// claimScript: KEYS queue, items; ARGV now, lease end, max. Moves up to
// max due ids to the lease end and returns their items.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[2], id)
  if v then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, v)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// ClaimLogouts leases up to max due items, the earliest due first.
func (s *Store) ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, max int) ([]storage.LogoutDelivery, error) {
	until := now.Add(lease)
	vals, err := claimScript.Run(ctx, s.client, []string{s.loQueueKey(), s.loItemsKey()},
		ms(now), ms(until), strconv.Itoa(max)).StringSlice()
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]storage.LogoutDelivery, 0, len(vals))
	for _, v := range vals {
		var d storage.LogoutDelivery
		if err := json.Unmarshal([]byte(v), &d); err != nil {
			return nil, fmt.Errorf("redisstore: decode logout delivery: %w", err)
		}
		d.NextAt = until
		out = append(out, d)
	}
	return out, nil
}

// rescheduleScript: KEYS queue, items; ARGV id, item, due. Writes only an
// item still queued, so a delivery deleted meanwhile stays deleted.
var rescheduleScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`)

// RescheduleLogout replaces item d.ID, if it is still queued.
func (s *Store) RescheduleLogout(ctx context.Context, d storage.LogoutDelivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("redisstore: encode logout delivery: %w", err)
	}
	err = rescheduleScript.Run(ctx, s.client, []string{s.loQueueKey(), s.loItemsKey()}, d.ID, b, ms(d.NextAt)).Err()
	return wrap(err)
}

// DeleteLogout removes item id. Idempotent.
func (s *Store) DeleteLogout(ctx context.Context, id string) error {
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, s.loQueueKey(), id)
		p.HDel(ctx, s.loItemsKey(), id)
		return nil
	})
	return wrap(err)
}
