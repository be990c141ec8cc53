package storage

import (
	"context"
	"time"
)

// DeviceStatus is where a device authorization request stands (RFC 8628).
type DeviceStatus string

// The states of a DeviceGrant. A grant starts pending; a user's decision
// makes it approved or denied; the poll that collects the tokens of an
// approved grant makes it redeemed.
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
	DeviceRedeemed DeviceStatus = "redeemed"
)

// DeviceGrant is one device authorization request (RFC 8628 §3.1–3.2). It
// is stored under the hash of its device_code (never the code) and found by
// its user code, which is kept normalized: the 8 letters, upper case,
// without the dash.
type DeviceGrant struct {
	DeviceHash string
	UserCode   string
	ClientID   string
	Scope      string
	// FamilyID is the session (sid, refresh family) of the tokens the
	// grant yields.
	FamilyID string
	// Interval is the least time between two polls; a poll sooner grows it
	// (PollDeviceGrant).
	Interval time.Duration
	// ExpiresAt: from this instant neither code is accepted (a poll gets
	// PollExpired).
	ExpiresAt time.Time
	// KeepUntil (≥ ExpiresAt) is when the store may forget the grant: until
	// then a late poll learns that the code expired rather than that it
	// never existed.
	KeepUntil time.Time
	Status    DeviceStatus
	// LastPollAt is the time of the previous poll; zero before the first.
	LastPollAt time.Time
	// The decision (DecideDeviceGrant): who approved, when they signed in,
	// and the browser session (store id) they approved in.
	UserID    string
	AuthTime  time.Time
	SessionID string
	// SID and AMR are the approving browser session's sid (SPEC §12) and
	// how it signed in (SPEC §10): the tokens carry them.
	SID string
	AMR []string
}

// DeviceDecision is a user's answer to a device authorization request.
type DeviceDecision struct {
	Approve   bool
	UserID    string
	AuthTime  time.Time
	SessionID string
	SID       string
	AMR       []string
}

// DevicePoll is the outcome of one poll of the token endpoint.
type DevicePoll int

// Poll outcomes, decided atomically by PollDeviceGrant.
const (
	// PollPending: not decided yet, or the first poll (authorization_pending).
	PollPending DevicePoll = iota
	// PollSlowDown: sooner than the interval after the previous poll; the
	// interval has grown (slow_down).
	PollSlowDown
	// PollDenied: the user denied the request (access_denied).
	PollDenied
	// PollExpired: the codes expired (expired_token).
	PollExpired
	// PollApproved: the user approved; the grant is now redeemed and the
	// caller issues the tokens, this once.
	PollApproved
)

// DeviceStore keeps device authorization requests in the session store, so
// any node answers any step: the endpoint, the page, and the polls. Every
// method decides expiry and the poll interval at now, the caller's clock
// (the poll rules are the caller's, applied atomically here), so a fake
// clock drives them whatever the backend; the store may drop a grant once
// its own clock passes KeepUntil.
type DeviceStore interface {
	// CreateDeviceGrant stores g, which must be pending, until g.KeepUntil
	// and makes it findable by g.UserCode until g.ExpiresAt. Returns
	// ErrExists when a live grant holds that user code already (the caller
	// draws another) or the device hash is taken.
	CreateDeviceGrant(ctx context.Context, g DeviceGrant, now time.Time) error
	// DeviceGrantByUserCode returns the pending, unexpired grant of the
	// normalized userCode; ErrNotFound otherwise.
	DeviceGrantByUserCode(ctx context.Context, userCode string, now time.Time) (DeviceGrant, error)
	// DecideDeviceGrant records d on the pending, unexpired grant of
	// userCode (approved, with d's user and auth time, or denied) and
	// returns it, atomically: of concurrent decisions exactly one wins.
	// Returns ErrNotFound when no such pending grant exists.
	DecideDeviceGrant(ctx context.Context, userCode string, d DeviceDecision, now time.Time) (DeviceGrant, error)
	// PollDeviceGrant records one poll by clientID of the grant stored
	// under deviceHash and returns the grant with the outcome, in one
	// atomic step, in this order: a redeemed grant gives ErrReused; an
	// expired one gives PollExpired; the
	// first poll gives PollPending whatever the state; a poll too soon
	// after the previous one (PollTooSoon) adds slowDownStep to Interval
	// and gives PollSlowDown; then pending, denied and approved give
	// PollPending, PollDenied and PollApproved, the last making the grant
	// redeemed. Every poll but an expired one becomes the previous poll.
	// Returns ErrNotFound for an unknown hash or another client's grant;
	// neither they nor ErrReused record anything.
	PollDeviceGrant(ctx context.Context, deviceHash, clientID string, now time.Time, slowDownStep time.Duration) (DeviceGrant, DevicePoll, error)
}

// PollTooSoon reports whether a poll gap after the previous one is sooner
// than interval allows. A tenth of the interval (half a second of the
// first 5 s) is forgiven: a client that polls on a timer reaches us a
// little early whenever its previous request took longer than this one, or
// its previous tick came late, and a strict rule would answer slow_down to
// well-behaved clients about half the time. Every backend applies this
// rule.
func PollTooSoon(gap, interval time.Duration) bool { return gap*10 < interval*9 }
