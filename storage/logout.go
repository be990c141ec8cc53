package storage

import (
	"context"
	"time"
)

// SessionRef names a browser sign-in session (SPEC §12) for logout: its
// public SID (the `sid` of ID tokens), its user, when it began, and how
// long its records are kept. Keep outlasts the session itself: refresh
// tokens minted in it may live up to 30 days, and they end with it.
type SessionRef struct {
	SID       string
	UserID    string
	CreatedAt time.Time
	Keep      time.Time // the records of the session may disappear after this
}

// SessionClient is a client that received tokens in a browser session,
// with the refresh family (and access-token sid) of those tokens.
type SessionClient struct {
	ClientID string
	FamilyID string
}

// LogoutDelivery is one back-channel logout token to deliver (OIDC
// Back-Channel Logout 1.0): queued when a session ends, retried until the
// client answers 200 or 204 or Deadline passes.
type LogoutDelivery struct {
	ID       string
	ClientID string
	URI      string // the client's backchannel_logout_uri
	SID      string
	Subject  string
	JTI      string
	// Token is the signed logout token; re-signed when TokenExp passed.
	Token    string
	TokenExp time.Time
	Attempts int
	NextAt   time.Time // due at or after this instant
	Deadline time.Time // given up after this instant
}

// LogoutStore keeps what back-channel logout needs in the session store,
// shared by every node: the browser sessions of each user, the clients
// that got tokens in each session, and the delivery queue.
type LogoutStore interface {
	// TrackSession records r under its user until r.Keep.
	TrackSession(ctx context.Context, r SessionRef) error
	// UserSessions returns the tracked sessions of userID that are kept
	// still, in no particular order.
	UserSessions(ctx context.Context, userID string) ([]SessionRef, error)
	// AddSessionClient records that c got tokens in session r (kept until
	// r.Keep) and that c.FamilyID belongs to r. Adding a client twice
	// keeps one entry.
	AddSessionClient(ctx context.Context, r SessionRef, c SessionClient) error
	// FamilySession returns the session a family was recorded in.
	// Returns ErrNotFound when it belongs to none (a /login session).
	FamilySession(ctx context.Context, familyID string) (SessionRef, error)
	// TakeSessionClients returns the clients of session sid and forgets
	// them and the session's user-index entry, atomically: of concurrent
	// calls one gets the clients, the others none, so a session that ends
	// twice notifies its clients once.
	TakeSessionClients(ctx context.Context, r SessionRef) ([]SessionClient, error)

	// EnqueueLogout adds d to the queue, due at d.NextAt.
	EnqueueLogout(ctx context.Context, d LogoutDelivery) error
	// ClaimLogouts returns up to max deliveries due at now and leases
	// them: each is due again only at now+lease, so no other node takes
	// it meanwhile, and a node that dies holding it loses only the lease.
	ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, max int) ([]LogoutDelivery, error)
	// RescheduleLogout replaces the stored delivery d.ID by d (its next
	// attempt, token, count). Does nothing when d.ID is gone.
	RescheduleLogout(ctx context.Context, d LogoutDelivery) error
	// DeleteLogout removes a delivered or abandoned item. Idempotent.
	DeleteLogout(ctx context.Context, id string) error
}
