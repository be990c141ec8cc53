package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"user-registry/storage"
)

// A pushed request is a record hash like a one-time token's (setRecord):
// r = JSON, e = expiry, p = the client that pushed it. Taking it is the
// one-time token's script with the client as the purpose: deleted and
// returned only while live and asked for by that client, atomically, so
// of two nodes taking one request at most one gets it.

func (s *Store) pushedKey(hash string) string { return s.prefix + "par:" + hash }

// SavePushedRequest stores r until r.ExpiresAt.
func (s *Store) SavePushedRequest(ctx context.Context, r storage.PushedRequest) error {
	return s.setRecord(ctx, "pushed request", s.pushedKey(r.Hash), r, r.ExpiresAt, "p", r.ClientID)
}

// TakePushedRequest returns and deletes a live request of clientID;
// otherwise storage.ErrNotFound, leaving the request as it was.
func (s *Store) TakePushedRequest(ctx context.Context, hash, clientID string) (storage.PushedRequest, error) {
	var r storage.PushedRequest
	status, err := s.runScript(ctx, consumeOneTimeScript, []string{s.pushedKey(hash)}, &r, ms(s.now()), clientID)
	if err != nil {
		return storage.PushedRequest{}, err
	}
	if status != statusOK {
		return storage.PushedRequest{}, storage.ErrNotFound
	}
	return r, nil
}

// PushedRequest returns a live request of clientID without taking it.
func (s *Store) PushedRequest(ctx context.Context, hash, clientID string) (storage.PushedRequest, error) {
	v, err := s.client.HMGet(ctx, s.pushedKey(hash), "r", "e", "p").Result()
	if err != nil {
		return storage.PushedRequest{}, wrap(err)
	}
	rec, _ := v[0].(string)
	exp, _ := v[1].(string)
	owner, _ := v[2].(string)
	until, perr := strconv.ParseInt(exp, 10, 64)
	if rec == "" || perr != nil || until <= ms(s.now()) || owner != clientID {
		return storage.PushedRequest{}, storage.ErrNotFound
	}
	var r storage.PushedRequest
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		return storage.PushedRequest{}, fmt.Errorf("redisstore: decode pushed request: %w", err)
	}
	return r, nil
}
