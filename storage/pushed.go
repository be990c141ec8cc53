package storage

import (
	"context"
	"time"
)

// PushedRequest is an authorization request a client pushed (RFC 9126),
// stored by the hash of its request_uri. Query is the request's
// parameters, form-encoded as the client sent them (without its
// credentials); ClientID is the client that pushed it, the only one that
// may use it.
type PushedRequest struct {
	Hash      string
	ClientID  string
	Query     string
	ExpiresAt time.Time
}

// PushedRequestStore keeps pushed authorization requests: single use and
// short-lived, shared by every node. SessionStore includes it.
type PushedRequestStore interface {
	// SavePushedRequest stores r until r.ExpiresAt.
	SavePushedRequest(ctx context.Context, r PushedRequest) error
	// TakePushedRequest returns and deletes the request atomically, only
	// while it is live and was pushed by clientID: of concurrent calls at
	// most one succeeds. Otherwise ErrNotFound, and a request presented
	// for another client is left as it was.
	TakePushedRequest(ctx context.Context, hash, clientID string) (PushedRequest, error)
	// PushedRequest returns the request without taking it, under the same
	// rules (for a page that only needs to know where the flow will go).
	PushedRequest(ctx context.Context, hash, clientID string) (PushedRequest, error)
}
