package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"user-registry/storage"
)

// setJSON stores v under key with Redis expiry at exp, in one transaction.
func (s *Store) setJSON(ctx context.Context, key string, v any, exp time.Time) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redisstore: encode %s: %w", key, err)
	}
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key, b, 0)
		p.PExpireAt(ctx, key, exp)
		return nil
	})
	return wrap(err)
}

// getJSON loads key into v. Returns storage.ErrNotFound for a missing key.
func (s *Store) getJSON(ctx context.Context, key string, v any) error {
	b, err := s.client.Get(ctx, key).Bytes()
	if err != nil {
		return wrap(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("redisstore: decode %s: %w", key, err)
	}
	return nil
}

// setRecord replaces the hash at key, in one transaction, by the fields a
// consume script reads (see scripts.go): r = v as JSON, e = exp, then
// fields; Redis drops it at exp. what names v in an encoding error.
func (s *Store) setRecord(ctx context.Context, what, key string, v any, exp time.Time, fields ...any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redisstore: encode %s: %w", what, err)
	}
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, append([]any{"r", b, "e", ms(exp)}, fields...)...)
		p.PExpireAt(ctx, key, exp)
		return nil
	})
	return wrap(err)
}

// runScript runs a {status, record} script (see scripts.go) and decodes the
// record into v when present.
func (s *Store) runScript(ctx context.Context, sc *redis.Script, keys []string, v any, args ...any) (int64, error) {
	res, err := sc.Run(ctx, s.client, keys, args...).Slice()
	if err != nil {
		return 0, wrap(err)
	}
	if len(res) == 0 {
		return 0, fmt.Errorf("%w: redisstore: empty script result", storage.ErrUnavailable)
	}
	status, _ := res[0].(int64)
	if len(res) > 1 && v != nil {
		str, _ := res[1].(string)
		if err := json.Unmarshal([]byte(str), v); err != nil {
			return 0, fmt.Errorf("redisstore: decode script result: %w", err)
		}
	}
	return status, nil
}

// CreateSession stores sess until sess.ExpiresAt.
func (s *Store) CreateSession(ctx context.Context, sess storage.Session) error {
	return s.setJSON(ctx, s.sessionKey(sess.ID), sess, sess.ExpiresAt)
}

// Session returns storage.ErrNotFound for an unknown or expired id.
func (s *Store) Session(ctx context.Context, id string) (storage.Session, error) {
	var sess storage.Session
	if err := s.getJSON(ctx, s.sessionKey(id), &sess); err != nil {
		return storage.Session{}, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		return storage.Session{}, storage.ErrNotFound
	}
	return sess, nil
}

// DeleteSession is idempotent.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return wrap(s.client.Del(ctx, s.sessionKey(id)).Err())
}

// SaveCode stores c until c.ExpiresAt (replacing, and so un-using, a code
// with the same hash).
func (s *Store) SaveCode(ctx context.Context, c storage.AuthCode) error {
	return s.setRecord(ctx, "code", s.codeKey(c.Hash), c, c.ExpiresAt)
}

// ConsumeCode returns the code and marks it used, atomically. A used,
// unexpired code is returned with storage.ErrReused; unknown or expired
// codes give storage.ErrNotFound.
func (s *Store) ConsumeCode(ctx context.Context, hash string) (storage.AuthCode, error) {
	var c storage.AuthCode
	status, err := s.runScript(ctx, consumeCodeScript, []string{s.codeKey(hash)}, &c, ms(s.now()))
	switch {
	case err != nil:
		return storage.AuthCode{}, err
	case status == statusOK:
		return c, nil
	case status == statusReused:
		return c, storage.ErrReused
	default:
		return storage.AuthCode{}, storage.ErrNotFound
	}
}

// SaveConsent stores c until c.ExpiresAt, replacing an earlier one, and
// records the client in the user's consent set, whose expiry is the latest
// of its members'.
func (s *Store) SaveConsent(ctx context.Context, c storage.Consent) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisstore: encode consent: %w", err)
	}
	key, set := s.consentKey(c.UserID, c.ClientID), s.consentSet(c.UserID)
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key, b, 0)
		p.PExpireAt(ctx, key, c.ExpiresAt)
		p.SAdd(ctx, set, c.ClientID)
		// NX sets a first expiry; GT only ever extends it (Redis ≥ 7).
		p.Do(ctx, "PEXPIREAT", set, ms(c.ExpiresAt), "NX")
		p.Do(ctx, "PEXPIREAT", set, ms(c.ExpiresAt), "GT")
		return nil
	})
	return wrap(err)
}

// Consent returns storage.ErrNotFound when the user has no live consent for
// the client.
func (s *Store) Consent(ctx context.Context, userID, clientID string) (storage.Consent, error) {
	var c storage.Consent
	if err := s.getJSON(ctx, s.consentKey(userID, clientID), &c); err != nil {
		return storage.Consent{}, err
	}
	if !s.now().Before(c.ExpiresAt) {
		return storage.Consent{}, storage.ErrNotFound
	}
	return c, nil
}

// DeleteUserConsents forgets every consent of the user. The set is read
// and deleted with its consent keys in one WATCH/MULTI transaction (all in
// the set's hash slot), retried when a concurrent SaveConsent changed it.
func (s *Store) DeleteUserConsents(ctx context.Context, userID string) error {
	set := s.consentSet(userID)
	del := func(tx *redis.Tx) error {
		ids, err := tx.SMembers(ctx, set).Result()
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(ids)+1)
		keys = append(keys, set)
		for _, id := range ids {
			keys = append(keys, s.consentKey(userID, id))
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, keys...)
			return nil
		})
		return err
	}
	var err error
	for range 5 {
		if err = s.client.Watch(ctx, del, set); !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	return wrap(err)
}

// SaveOneTimeToken stores t until t.ExpiresAt.
func (s *Store) SaveOneTimeToken(ctx context.Context, t storage.OneTimeToken) error {
	return s.setRecord(ctx, "token", s.oneTimeKey(t.Hash), t, t.ExpiresAt, "p", t.Purpose)
}

// ConsumeOneTimeToken returns and deletes the token atomically, only if it
// is live and its purpose matches; otherwise storage.ErrNotFound and the
// token is left as it was.
func (s *Store) ConsumeOneTimeToken(ctx context.Context, hash, purpose string) (storage.OneTimeToken, error) {
	var t storage.OneTimeToken
	status, err := s.runScript(ctx, consumeOneTimeScript, []string{s.oneTimeKey(hash)}, &t, ms(s.now()), purpose)
	if err != nil {
		return storage.OneTimeToken{}, err
	}
	if status != statusOK {
		return storage.OneTimeToken{}, storage.ErrNotFound
	}
	return t, nil
}
