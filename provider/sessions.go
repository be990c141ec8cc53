package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"user-registry/keys"
	"user-registry/storage"
)

// DefaultSessionTTL is the lifetime of a browser sign-in: it lasts this
// long from the login, with no sliding renewal, so a stolen cookie is
// useful for at most that long. It is well inside the refresh tokens'
// absolute 30 days (SPEC §1).
const DefaultSessionTTL = 12 * time.Hour

// sessionSecretLen is the size of a session's cookie value and of its
// CSRF key, in random bytes (256 bits).
const sessionSecretLen = 32

// SessionDeps are what Sessions is built from. Store, Revocations and
// Users are required; the rest have defaults.
type SessionDeps struct {
	// Store keeps the sessions (memory or Redis, shared by every node).
	Store storage.SessionStore
	// Revocations answers the user's not-before: "log out everywhere", a
	// password change or reset end the browser sessions created before it.
	Revocations storage.RevocationStore
	// Users tells whether a session's user still exists (UserByID).
	Users storage.UserStore
	// Logouts, when set, tracks each session for back-channel logout
	// and ends what was minted in it when it ends (SPEC §12).
	Logouts *Logouts
	TTL     time.Duration    // lifetime of a session; zero means DefaultSessionTTL
	Now     func() time.Time // nil means time.Now
	Log     *slog.Logger     // nil discards
}

// Sessions owns browser sign-ins (SPEC §8): it creates them, decides
// whether one still counts, and ends them. It knows nothing about cookies:
// the web layer carries the value Create returns and hands it back. The
// store holds only the value's SHA-256, so a dump of the session store
// holds no usable cookie. Safe for concurrent use.
type Sessions struct {
	store storage.SessionStore
	rev   storage.RevocationStore
	users storage.UserStore
	lo    *Logouts
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger
}

// NewSessions builds the session service. It fails when a required
// dependency is missing, so no browser session is ever accepted without
// its not-before being checked.
func NewSessions(d SessionDeps) (*Sessions, error) {
	if d.Store == nil || d.Revocations == nil || d.Users == nil {
		return nil, errors.New("provider: sessions: missing dependency")
	}
	s := &Sessions{store: d.Store, rev: d.Revocations, users: d.Users, lo: d.Logouts, ttl: d.TTL, now: d.Now, log: d.Log}
	if s.ttl <= 0 {
		s.ttl = DefaultSessionTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// TTL is the lifetime of a session, for the cookie's Max-Age.
func (s *Sessions) TTL() time.Duration { return s.ttl }

// Create starts a session for userID. It returns the value the browser
// carries (256 random bits, base64url) and the stored record, whose ID is
// the value's hash and whose CSRFKey is the secret the session's forms
// are bound to. Errors wrap storage.ErrUnavailable.
func (s *Sessions) Create(ctx context.Context, userID string) (string, storage.Session, error) {
	return s.CreateFor(ctx, userID, amrPasswordOnly())
}

// CreateFor is Create for a sign-in made with amr (SPEC §10): the session
// remembers it and the sign-in time, for the code flow's step-up and the
// tokens minted from its codes.
func (s *Sessions) CreateFor(ctx context.Context, userID string, amr []string) (string, storage.Session, error) {
	value, id := NewSecret(sessionSecretLen)
	now := s.now()
	sess := storage.Session{
		ID:        id,
		UserID:    userID,
		SID:       uuid.NewString(),
		CSRFKey:   RandomBytes(sessionSecretLen),
		CreatedAt: now,
		ExpiresAt: now.Add(s.ttl),
		AMR:       slices.Clone(amr),
		AuthTime:  now,
	}
	// Tracked first: a session is never live without its user's
	// logout-everywhere reaching it.
	if s.lo != nil {
		if err := s.lo.Track(ctx, sess.SID, userID, now, sess.ExpiresAt); err != nil {
			return "", storage.Session{}, err
		}
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", storage.Session{}, fmt.Errorf("provider: create session: %w", err)
	}
	return value, sess, nil
}

// Validate returns the user and the session of a cookie value. A session
// counts when it exists, has not expired, was created at or after the
// user's not-before (browser sessions are never the spared one), and its
// user still exists and is not disabled.
//
// ok is false, with a nil error, when the value names no session that
// counts. err is non-nil (wrapping storage.ErrUnavailable) when a store
// could not be read: the caller must fail closed, since the session's
// revocation state is unknown (SEC-18).
func (s *Sessions) Validate(ctx context.Context, value string) (storage.User, storage.Session, bool, error) {
	if value == "" {
		return storage.User{}, storage.Session{}, false, nil
	}
	sess, err := s.store.Session(ctx, sessionID(value))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, storage.Session{}, false, nil
	}
	if err != nil {
		return storage.User{}, storage.Session{}, false, fmt.Errorf("provider: load session: %w", err)
	}
	// The store expires sessions itself; checking again keeps the answer
	// right on a store whose expiry is coarse (Redis TTLs).
	if !s.now().Before(sess.ExpiresAt) {
		return storage.User{}, storage.Session{}, false, nil
	}
	nb, spare, err := s.rev.NotBefore(ctx, sess.UserID)
	if err != nil {
		return storage.User{}, storage.Session{}, false, fmt.Errorf("provider: session not-before: %w", err)
	}
	if s.lo != nil && sess.SID != "" {
		// Ended by sid where its cookie was not at hand: an RP-initiated
		// logout from another browser, a logout with an app's token,
		// refresh-token reuse (Logouts.End).
		ended, err := s.lo.Ended(ctx, sess.SID)
		if err != nil {
			return storage.User{}, storage.Session{}, false, err
		}
		if ended {
			return storage.User{}, storage.Session{}, false, nil
		}
	}
	if keys.RevokedByNotBefore(sess.CreatedAt, "", nb, spare) {
		s.log.DebugContext(ctx, "browser session ended by not-before", "user_id", sess.UserID)
		return storage.User{}, storage.Session{}, false, nil
	}
	u, err := s.users.UserByID(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		s.log.DebugContext(ctx, "browser session of a deleted user", "user_id", sess.UserID)
		return storage.User{}, storage.Session{}, false, nil
	}
	if err != nil {
		return storage.User{}, storage.Session{}, false, fmt.Errorf("provider: load session user: %w", err)
	}
	if u.Disabled {
		// Disabling set the not-before too; this holds even if that
		// entry is lost (SPEC §13).
		s.log.DebugContext(ctx, "browser session of a disabled user", "user_id", sess.UserID)
		return storage.User{}, storage.Session{}, false, nil
	}
	return u, sess, true, nil
}

// End deletes the session of a cookie value. Idempotent: an unknown or
// empty value is not an error. Errors wrap storage.ErrUnavailable.
func (s *Sessions) End(ctx context.Context, value string) error {
	if value == "" {
		return nil
	}
	id := sessionID(value)
	var sess storage.Session
	if s.lo != nil {
		var err error
		sess, err = s.store.Session(ctx, id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("provider: end session: %w", err)
		}
	}
	if err := s.store.DeleteSession(ctx, id); err != nil {
		return fmt.Errorf("provider: end session: %w", err)
	}
	if s.lo != nil && sess.SID != "" {
		return s.lo.End(ctx, sess.SID, sess.UserID, sess.CreatedAt)
	}
	return nil
}

// EndSID ends the browser session named sid of userID without its cookie
// (RP-initiated logout with an id_token_hint): the session stops counting
// on every node (Validate) and what was minted in it is ended. Without
// Logouts it does nothing. Errors wrap storage.ErrUnavailable.
func (s *Sessions) EndSID(ctx context.Context, sid, userID string) error {
	if s.lo == nil || sid == "" {
		return nil
	}
	return s.lo.End(ctx, sid, userID, time.Time{})
}

// sessionID is the key a session is stored under: HashSecret of the
// cookie value. The encoding must not change, or every signed-in browser
// is signed out by an upgrade.
func sessionID(value string) string { return HashSecret(value) }
