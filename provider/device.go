package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"user-registry/storage"
)

// The device authorization grant (RFC 8628, SPEC §12).
const (
	GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	// DefaultDeviceTTL is the lifetime of a device and user code pair
	// (expires_in).
	DefaultDeviceTTL = 10 * time.Minute
	// DefaultDeviceInterval is the least time between two polls
	// (interval) at the start.
	DefaultDeviceInterval = 5 * time.Second
	// DeviceSlowDownStep is what each slow_down adds to the interval
	// (RFC 8628 §3.5).
	DeviceSlowDownStep = 5 * time.Second
	// DefaultDeviceCodeLimit bounds the wrong user codes one client IP may
	// enter (N/DURATION, see ParseRate): a user code has only about 34.6
	// bits, so guessing is held back per address.
	DefaultDeviceCodeLimit = "10/15m"
	// deviceKeep is how long an expired grant is remembered, so a late
	// poll learns expired_token rather than invalid_grant.
	deviceKeep = 10 * time.Minute
	// deviceCodeBytes is the entropy of a device code: 256 bits.
	deviceCodeBytes = 32
	// limitDeviceCode is the Detail of the rate_limited event of
	// WrongCodes.
	limitDeviceCode = "device code limit"
)

// Poll answers of the device grant at the token endpoint (RFC 8628 §3.5),
// each its own error code; the web layer's error table maps them.
var (
	// ErrAuthorizationPending: the user has not decided yet, or this is the
	// first poll (authorization_pending, 400).
	ErrAuthorizationPending error = &clientError{msg: "The user has not approved the request yet"}
	// ErrSlowDown: a poll sooner than the interval allows; the interval
	// grew by DeviceSlowDownStep (slow_down, 400).
	ErrSlowDown error = &clientError{msg: "Polling too often: wait 5 seconds longer between requests"}
	// ErrDeviceDenied: the user denied the request (access_denied, 400).
	ErrDeviceDenied error = &clientError{msg: "The user denied the request"}
	// ErrExpiredToken: the device code expired (expired_token, 400).
	ErrExpiredToken error = &clientError{msg: "The device code has expired: start again"}
)

// ErrWrongUserCode is the /device page's answer to a user code that is
// unknown, malformed, expired or already used (400, shown on the form).
var ErrWrongUserCode = InvalidInput("That code is not valid or has expired. Check the code on your device and try again.")

// DeviceDeps are what DeviceFlow is built from. CodeFlow and Store are
// required; zero durations take the defaults.
type DeviceDeps struct {
	// CodeFlow lends its parts: the scope rules of authorization requests,
	// the client lookup, the users, the token issue and the ID tokens.
	CodeFlow *CodeFlow
	// Store keeps the grants (the session store, shared by every node).
	Store storage.DeviceStore
	// WrongCodes limits the user codes entered per client IP ("device:"
	// keys); nil: no limit.
	WrongCodes *RateLimiter
	// Audit records refusals by WrongCodes (rate_limited); nil records
	// nothing.
	Audit Auditor
	// Issuer is the base of the verification URI (Issuer + "/device").
	Issuer   string
	TTL      time.Duration    // zero means DefaultDeviceTTL
	Interval time.Duration    // zero means DefaultDeviceInterval
	Now      func() time.Time // nil means time.Now
	Log      *slog.Logger     // nil discards
}

// DeviceFlow runs the device authorization grant: the device authorization
// endpoint, the decisions of the /device page, and the polls of the token
// endpoint. Safe for concurrent use.
type DeviceFlow struct {
	code       *CodeFlow
	store      storage.DeviceStore
	wrongCodes *RateLimiter
	audit      Auditor
	issuer     string
	ttl        time.Duration
	interval   time.Duration
	now        func() time.Time
	log        *slog.Logger
}

// NewDeviceFlow wires the device grant. It fails when a dependency is
// missing.
func NewDeviceFlow(d DeviceDeps) (*DeviceFlow, error) {
	if d.CodeFlow == nil || d.Store == nil || d.Issuer == "" {
		return nil, errors.New("provider: device flow: missing dependency")
	}
	f := &DeviceFlow{code: d.CodeFlow, store: d.Store, wrongCodes: d.WrongCodes, audit: auditorOr(d.Audit),
		issuer: strings.TrimRight(d.Issuer, "/"),
		ttl:    d.TTL, interval: d.Interval, now: d.Now, log: d.Log}
	if f.ttl <= 0 {
		f.ttl = DefaultDeviceTTL
	}
	if f.interval <= 0 {
		f.interval = DefaultDeviceInterval
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

// DeviceAuthorization is the answer of the device authorization endpoint
// (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode              string
	UserCode                string // XXXX-XXXX
	VerificationURI         string
	VerificationURIComplete string
	ExpiresIn               time.Duration
	Interval                time.Duration
}

// Start begins a device authorization for client c (already
// authenticated) with the requested scope ("" means the client's default,
// as at the authorization endpoint). The device code has 256 random bits
// and only its hash is stored. Returns ErrUnauthorizedClient when c lacks
// the device grant, an ErrInvalidScope variant, or a store error.
func (f *DeviceFlow) Start(ctx context.Context, c storage.Client, scope string) (DeviceAuthorization, error) {
	if !slices.Contains(c.GrantTypes, GrantDeviceCode) {
		return DeviceAuthorization{}, ErrUnauthorizedClient
	}
	scopes, msg := f.code.requestedScopes(c, scope)
	if msg != "" {
		return DeviceAuthorization{}, clientErrorf(ErrInvalidScope, msg)
	}
	device, hash := NewSecret(deviceCodeBytes)
	now := f.now()
	g := storage.DeviceGrant{
		DeviceHash: hash, ClientID: c.ID, Scope: strings.Join(scopes, " "), FamilyID: uuid.NewString(),
		Interval: f.interval, ExpiresAt: now.Add(f.ttl), KeepUntil: now.Add(f.ttl + deviceKeep),
		Status: storage.DevicePending,
	}
	// A user code is drawn again when a live grant holds it: rare, with
	// 20^8 codes, but two devices must never share one.
	var err error
	for range 5 {
		g.UserCode = newUserCode()
		if err = f.store.CreateDeviceGrant(ctx, g, now); !errors.Is(err, storage.ErrExists) {
			break
		}
	}
	if err != nil {
		return DeviceAuthorization{}, fmt.Errorf("provider: save device grant: %w", err)
	}
	shown := FormatUserCode(g.UserCode)
	return DeviceAuthorization{
		DeviceCode: device, UserCode: shown,
		VerificationURI:         f.issuer + "/device",
		VerificationURIComplete: f.issuer + "/device?user_code=" + shown,
		ExpiresIn:               f.ttl, Interval: f.interval,
	}, nil
}

// DeviceRequest is what the /device page shows for a user code: the
// client asking and the scopes it asks for.
type DeviceRequest struct {
	UserCode string // XXXX-XXXX
	Client   storage.Client
	Scopes   []ScopeDescription
}

// Lookup finds the pending request of the user code entered on the page
// from client IP ip (case, dashes and spaces ignored). Every entry counts
// against the per-IP limit until it proves right, so concurrent guesses
// cannot all pass the check before any is counted. Returns ErrWrongUserCode,
// a *RateLimitError (ErrRateLimited) when ip entered too many wrong codes,
// or a store error.
func (f *DeviceFlow) Lookup(ctx context.Context, ip, userCode string) (DeviceRequest, error) {
	var req DeviceRequest
	err := f.guarded(ctx, ip, userCode, func(code string) error {
		g, err := f.store.DeviceGrantByUserCode(ctx, code, f.now())
		if err != nil {
			return err
		}
		req, err = f.describe(ctx, g)
		return err
	})
	return req, err
}

// Decide records the answer of user u, signed in with browser session
// sess, to the request of userCode: approve or deny. The session's
// creation is the tokens' auth_time, and the grant records the session.
// Counted against the per-IP limit like Lookup. Returns the request
// decided, ErrWrongUserCode when it is no longer pending (decided already,
// expired), a *RateLimitError, or a store error.
func (f *DeviceFlow) Decide(ctx context.Context, ip, userCode string, u storage.User, sess storage.Session, approve bool) (DeviceRequest, error) {
	var req DeviceRequest
	err := f.guarded(ctx, ip, userCode, func(code string) error {
		d := storage.DeviceDecision{Approve: approve}
		if approve {
			in := SessionSignIn(u, sess)
			d.UserID, d.AuthTime, d.SessionID, d.SID, d.AMR = u.ID, in.AuthTime, sess.ID, sess.SID, in.AMR
		}
		g, err := f.store.DecideDeviceGrant(ctx, code, d, f.now())
		if err != nil {
			return err
		}
		f.log.InfoContext(ctx, "device authorization decided", "client_id", g.ClientID, "approved", approve)
		req, err = f.describe(ctx, g)
		return err
	})
	return req, err
}

// guarded runs use on the normalized userCode under the per-IP limit: the
// entry is counted first and refunded when use succeeds. A malformed or
// unknown code is ErrWrongUserCode.
func (f *DeviceFlow) guarded(ctx context.Context, ip, userCode string, use func(code string) error) error {
	key := "device:" + ip
	if _, err := f.wrongCodes.Allow(ctx, key); err != nil {
		if errors.Is(err, ErrRateLimited) {
			f.audit.Record(ctx, AuditEvent{Event: EventRateLimited, Actor: ActorUser, Detail: limitDeviceCode})
		}
		return err
	}
	code, ok := NormalizeUserCode(userCode)
	if !ok {
		return ErrWrongUserCode
	}
	err := use(code)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, ErrBadClient):
		return ErrWrongUserCode
	case err != nil:
		return fmt.Errorf("provider: device user code: %w", err)
	}
	return f.wrongCodes.Refund(ctx, key)
}

// describe is the page's view of grant g. A client deleted meanwhile makes
// the code unusable (ErrBadClient from the lookup).
func (f *DeviceFlow) describe(ctx context.Context, g storage.DeviceGrant) (DeviceRequest, error) {
	c, err := f.code.clients.Lookup(ctx, g.ClientID)
	if err != nil {
		return DeviceRequest{}, err
	}
	return DeviceRequest{
		UserCode: FormatUserCode(g.UserCode), Client: c,
		Scopes: DescribeScopes(AuthorizeRequest{Scopes: splitScope(g.Scope)}),
	}, nil
}
