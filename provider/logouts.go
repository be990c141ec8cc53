package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"user-registry/storage"
)

// Back-channel delivery schedule (SPEC §12): the first attempt at once
// (the worker polls every DefaultLogoutPoll and is woken on enqueue), the
// retries after 5 s, 10 s, 20 s … doubling, at most 1 h apart, for 24 h.
const (
	LogoutFirstRetry = 5 * time.Second
	LogoutMaxRetry   = time.Hour
	LogoutGiveUp     = 24 * time.Hour
)

// clientStore is what Logouts needs of the clients: their registered
// back-channel URI, read when a session ends (rare; no cache needed).
type clientStore interface {
	Client(ctx context.Context, id string) (storage.Client, error)
}

// LogoutDeps are what Logouts is built from. Store, Revocations, Refresh
// and Clients are required.
type LogoutDeps struct {
	// Store keeps the sessions' clients and the delivery queue (the
	// session store, shared by every node).
	Store       storage.LogoutStore
	Revocations storage.RevocationStore
	Refresh     storage.RefreshStore
	Clients     clientStore
	// Keep is how long a session's records and its sid revocation are
	// kept: the longest a refresh family minted in it lives. Zero means
	// DefaultRefreshAbsolute.
	Keep time.Duration
	// Wake is called after deliveries were queued, to start the local
	// worker at once (Backchannel.Wake); nil: the worker's poll finds
	// them.
	Wake func()
	Now  func() time.Time // nil means time.Now
	Log  *slog.Logger     // nil discards
}

// Logouts owns the end of browser sign-in sessions (SPEC §12): what a
// session is made of (the clients that got tokens in it and their
// refresh families), ending it with everything minted in it, and queueing
// one back-channel logout token per client registered for one.
//
// Tokens die with their session because each session records the refresh
// families minted in it (one per client grant; the family id stays the
// access tokens' sid), and ending the session revokes each family and its
// sid. Access tokens could instead have carried the browser session's
// sid, but then revoking one grant (RFC 7009, code or refresh reuse)
// could no longer reach its access tokens by their sid; recording the
// families keeps both kinds of revocation one lookup each.
//
// A session here is a browser sign-in: its sid names it in every ID token.
// A /login (API) session is not one: it has no browser and its only
// client is the registry itself, so no app is told of its end; its sid
// stays its refresh family.
type Logouts struct {
	store   storage.LogoutStore
	rev     storage.RevocationStore
	refresh storage.RefreshStore
	clients clientStore
	keep    time.Duration
	wake    func()
	now     func() time.Time
	log     *slog.Logger
}

// NewLogouts builds the service; it fails when a dependency is missing.
func NewLogouts(d LogoutDeps) (*Logouts, error) {
	if d.Store == nil || d.Revocations == nil || d.Refresh == nil || d.Clients == nil {
		return nil, errors.New("provider: logouts: missing dependency")
	}
	l := &Logouts{store: d.Store, rev: d.Revocations, refresh: d.Refresh, clients: d.Clients,
		keep: d.Keep, wake: d.Wake, now: d.Now, log: d.Log}
	if l.keep <= 0 {
		l.keep = DefaultRefreshAbsolute
	}
	if l.wake == nil {
		l.wake = func() {}
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l, nil
}

// ref completes a session reference with how long it is kept.
func (l *Logouts) ref(sid, userID string, created time.Time) storage.SessionRef {
	return storage.SessionRef{SID: sid, UserID: userID, CreatedAt: created, Keep: l.now().Add(l.keep)}
}

// Track records a new browser session under its user until it expires,
// so that ending all of the user's sessions reaches it; AddClient keeps it
// longer once tokens that outlive it were minted in it. Errors wrap
// storage.ErrUnavailable.
func (l *Logouts) Track(ctx context.Context, sid, userID string, created, expires time.Time) error {
	r := storage.SessionRef{SID: sid, UserID: userID, CreatedAt: created, Keep: expires}
	if err := l.store.TrackSession(ctx, r); err != nil {
		return fmt.Errorf("provider: track session: %w", err)
	}
	return nil
}

// AddClient records that clientID got tokens of family familyID in
// session sid, then reports whether the session has ended meanwhile:
// recording first and checking after means an ending that raced with it
// either saw the client (and revoked its family) or is seen here.
// Returns ErrInvalidGrant (a variant) for an ended session, or an error
// wrapping storage.ErrUnavailable.
func (l *Logouts) AddClient(ctx context.Context, sid, userID string, created time.Time, clientID, familyID string) error {
	r := l.ref(sid, userID, created)
	if err := l.store.AddSessionClient(ctx, r, storage.SessionClient{ClientID: clientID, FamilyID: familyID}); err != nil {
		return fmt.Errorf("provider: record session client: %w", err)
	}
	// The session's refresh tokens may outlive it: keep it reachable
	// from its user as long as they live.
	if err := l.store.TrackSession(ctx, r); err != nil {
		return fmt.Errorf("provider: record session client: %w", err)
	}
	ended, err := l.rev.IsRevoked(ctx, sid)
	if err != nil {
		return fmt.Errorf("provider: session state: %w", err)
	}
	if ended {
		// Undo the record, so a later end of the user's sessions does
		// not tell this client of a session it got nothing from.
		if _, err := l.store.TakeSessionClients(ctx, r); err != nil {
			return fmt.Errorf("provider: record session client: %w", err)
		}
		return invalidGrant("The sign-in session that approved this code has ended")
	}
	return nil
}

// Ended reports whether session sid was ended (its sid is revoked).
func (l *Logouts) Ended(ctx context.Context, sid string) (bool, error) {
	ended, err := l.rev.IsRevoked(ctx, sid)
	if err != nil {
		return false, fmt.Errorf("provider: session state: %w", err)
	}
	return ended, nil
}

// End ends browser session sid of userID: the sid is revoked (the session
// no longer counts on any node), then the session's clients are taken
// (once, however many times the session ends), each client's refresh
// family and access tokens are revoked, and a logout token is queued for
// each client with a back-channel URI. Errors wrap
// storage.ErrUnavailable.
func (l *Logouts) End(ctx context.Context, sid, userID string, created time.Time) error {
	if sid == "" {
		return nil
	}
	r := l.ref(sid, userID, created)
	if err := l.rev.Revoke(ctx, sid, r.Keep); err != nil {
		return fmt.Errorf("provider: end session: %w", err)
	}
	cs, err := l.store.TakeSessionClients(ctx, r)
	if err != nil {
		return fmt.Errorf("provider: end session: %w", err)
	}
	queued := 0
	var firstErr error
	for _, c := range cs {
		// One client's trouble must not spare the others: go on, report
		// the first error at the end.
		ok, err := l.endClient(ctx, r, c)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if ok {
			queued++
		}
	}
	if queued > 0 {
		l.wake()
	}
	l.log.InfoContext(ctx, "browser session ended", "sid", sid, "clients", len(cs), "backchannel", queued)
	return firstErr
}

// endClient revokes client c's tokens of session r and queues its logout
// token when it has a back-channel URI; it reports whether it queued.
func (l *Logouts) endClient(ctx context.Context, r storage.SessionRef, c storage.SessionClient) (bool, error) {
	if c.FamilyID != "" {
		if err := l.rev.Revoke(ctx, c.FamilyID, r.Keep); err != nil {
			return false, fmt.Errorf("provider: end session tokens: %w", err)
		}
		if err := l.refresh.RevokeFamily(ctx, c.FamilyID); err != nil {
			return false, fmt.Errorf("provider: end session tokens: %w", err)
		}
	}
	cl, err := l.clients.Client(ctx, c.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil // deleted since: nobody to tell
	}
	if err != nil {
		return false, fmt.Errorf("provider: end session: client: %w", err)
	}
	if cl.BackchannelLogoutURI == "" {
		return false, nil
	}
	now := l.now()
	d := storage.LogoutDelivery{
		ID: uuid.NewString(), ClientID: cl.ID, URI: cl.BackchannelLogoutURI, SID: r.SID, Subject: r.UserID,
		JTI: randomText(16), NextAt: now, Deadline: now.Add(LogoutGiveUp),
	}
	if err := l.store.EnqueueLogout(ctx, d); err != nil {
		return false, fmt.Errorf("provider: queue logout token: %w", err)
	}
	return true, nil
}

// EndFamily ends the browser session refresh family familyID was minted
// in (a logout with a code-flow token, refresh-token reuse). A family of
// no browser session (a /login session) ends on its own: nothing to do.
func (l *Logouts) EndFamily(ctx context.Context, familyID string) error {
	r, err := l.store.FamilySession(ctx, familyID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("provider: session of family: %w", err)
	}
	return l.End(ctx, r.SID, r.UserID, r.CreatedAt)
}

// EndUserSessions ends every browser session of userID begun before nb
// (logout everywhere, password change or reset, account deletion, an
// admin's disable or logout): their tokens are dead by the not-before
// already; this tells their clients. Errors wrap storage.ErrUnavailable.
func (l *Logouts) EndUserSessions(ctx context.Context, userID string, nb time.Time) error {
	refs, err := l.store.UserSessions(ctx, userID)
	if err != nil {
		return fmt.Errorf("provider: sessions of user: %w", err)
	}
	var firstErr error
	for _, r := range refs {
		if r.CreatedAt.After(nb) {
			continue // begun after: a new sign-in (the account page's, after a password change)
		}
		if err := l.End(ctx, r.SID, r.UserID, r.CreatedAt); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// Revocations returns rev with SetNotBefore extended to end the user's
// browser sessions (EndUserSessions): the not-before is the one mechanism
// behind logout everywhere, password changes and resets, account deletion
// and an admin's disable or logout, so every one of them tells the
// session's clients. Everything else is rev's own.
func (l *Logouts) Revocations(rev storage.RevocationStore) storage.RevocationStore {
	return notifyingRevocations{RevocationStore: rev, l: l}
}

type notifyingRevocations struct {
	storage.RevocationStore
	l *Logouts
}

func (n notifyingRevocations) SetNotBefore(ctx context.Context, userID string, t, until time.Time, spare string) error {
	if err := n.RevocationStore.SetNotBefore(ctx, userID, t, until, spare); err != nil {
		return err
	}
	return n.l.EndUserSessions(ctx, userID, t)
}
