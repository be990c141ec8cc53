package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"user-registry/storage"
)

// Revoke marks id revoked until the given time (the key expires then). A
// later until extends an existing entry; an earlier one never shortens it.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	return wrap(revokeScript.Run(ctx, s.client, []string{s.revokedKey(id)}, ms(until)).Err())
}

// IsRevoked reports whether any of ids is revoked at the clock's now. The
// ids are read with a pipeline of single-key GETs rather than one multi-key
// command, because on Cluster they hash to different slots.
func (s *Store) IsRevoked(ctx context.Context, ids ...string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Get(ctx, s.revokedKey(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, wrap(err)
	}
	now := ms(s.now())
	for _, c := range cmds {
		v, err := c.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return false, wrap(err)
		}
		if liveMS(v, now) {
			return true, nil
		}
	}
	return false, nil
}

// SetNotBefore makes tokens of the user issued before t invalid, except
// those of session spare, keeping the entry until `until`. A live entry is
// never moved backwards or shortened, so a delayed, older "log out
// everywhere" can't revalidate tokens.
func (s *Store) SetNotBefore(ctx context.Context, userID string, t, until time.Time, spare string) error {
	return wrap(setNotBeforeScript.Run(ctx, s.client, []string{s.notBeforeKey(userID)},
		ms(s.now()), ms(t), strconv.FormatInt(t.UnixNano(), 10), ms(until), spare).Err())
}

// NotBefore returns the user's not-before time and spared session, zero
// and "" when none or expired.
func (s *Store) NotBefore(ctx context.Context, userID string) (time.Time, string, error) {
	v, err := s.client.HMGet(ctx, s.notBeforeKey(userID), "t", "u", "x").Result()
	if err != nil {
		return time.Time{}, "", wrap(err)
	}
	str, _ := v[0].(string)
	if str == "" || !liveMS(v[1], ms(s.now())) {
		return time.Time{}, "", nil
	}
	ns, err := strconv.ParseInt(str, 10, 64)
	if err != nil {
		// Fail closed: a garbled entry must not read as "no not-before".
		return time.Time{}, "", fmt.Errorf("%w: redisstore: bad not-before %q", storage.ErrUnavailable, str)
	}
	spare, _ := v[2].(string)
	return time.Unix(0, ns).UTC(), spare, nil
}
