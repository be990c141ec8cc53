package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"user-registry/keys"
	"user-registry/storage"
)

// Logout ends the session of a verified access token (SEC-12): the token's
// jti is revoked until its exp (plus the verifier's skew), and its session —
// the refresh family named by sid — is deleted and its sid revoked, so the
// session's refresh token and every access token minted from it stop
// working at once, on every node sharing the revocation store. Returns an
// error wrapping storage.ErrUnavailable when a revocation could not be
// written (the caller must not report success).
func (a *Accounts) Logout(ctx context.Context, c keys.AccessClaims) error {
	if c.JTI == "" {
		return fmt.Errorf("%w: token has no jti", ErrUnauthenticated)
	}
	if err := a.revokeAccess(ctx, c); err != nil {
		return fmt.Errorf("provider: logout: revoke token: %w", err)
	}
	if c.SID != "" {
		if err := a.EndSession(ctx, c.SID); err != nil {
			return err
		}
		// A code-flow token's family is part of a browser session:
		// that whole session ends (SPEC §12).
		if err := a.endBrowserSession(ctx, c.SID); err != nil {
			return err
		}
	}
	a.audit.Record(ctx, AuditEvent{Event: EventLogout, UserID: c.Subject, ClientID: c.ClientID, Domain: c.Domain, Actor: ActorUser})
	return nil
}

// endBrowserSession ends the browser session family belongs to, if any.
func (a *Accounts) endBrowserSession(ctx context.Context, family string) error {
	if a.logouts == nil {
		return nil
	}
	return a.logouts.EndFamily(ctx, family)
}

// revokeAccess revokes the access token c by its jti until its exp (now
// plus AccessTTL when it has none) plus revocationGrace.
func (a *Accounts) revokeAccess(ctx context.Context, c keys.AccessClaims) error {
	exp := c.ExpiresAt
	if exp.IsZero() {
		exp = a.now().Add(a.cfg.AccessTTL)
	}
	return a.rev.Revoke(ctx, c.JTI, exp.Add(revocationGrace))
}

// EndSession ends session sid (a refresh family): logout, and the code
// flow when an authorization code is used twice. The sid is revoked first
// (its access tokens die even if deleting the family fails), then the
// family is deleted. The sid entry lasts as long as the family could have,
// covering access tokens minted from it by a rotation racing with the
// logout. Returns an error wrapping storage.ErrUnavailable.
func (a *Accounts) EndSession(ctx context.Context, sid string) error {
	if err := a.rev.Revoke(ctx, sid, a.now().Add(a.cfg.RefreshAbsolute)); err != nil {
		return fmt.Errorf("provider: revoke session: %w", err)
	}
	if err := a.refresh.RevokeFamily(ctx, sid); err != nil {
		return fmt.Errorf("provider: revoke session refresh tokens: %w", err)
	}
	return nil
}

// LogoutAll ends every session and token of the user (SEC-13) by setting
// the user's not-before to now; access tokens (checked by the verifier) and
// refresh tokens (checked by RefreshFor) issued before it are dead. The
// entry is kept for RefreshAbsolute, the longest any of them could live.
//
// Not-before semantics: a token or refresh token is revoked when issued
// strictly before the not-before instant, which is stored with full
// precision. Access tokens carry iat in whole seconds, so a token minted in
// the same second as the logout — before or after it — reads as earlier
// and is refused: nothing issued before the logout survives. Tokens issued
// afterwards must not be born revoked, so IssueTokensFor waits for the next
// whole second (at most 1 s, only right after a logout everywhere or a
// password change) before minting for a user whose not-before is in the
// current second.
//
// Returns an error wrapping storage.ErrUnavailable.
func (a *Accounts) LogoutAll(ctx context.Context, userID string) error {
	if err := a.endSessions(ctx, userID, ""); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "user logged out everywhere", "user_id", userID)
	// The domain lets a domain admin see the event; the read is cheap
	// next to the revocation, and a failure only leaves it empty.
	u, _ := a.users.UserByID(ctx, userID)
	a.audit.Record(ctx, AuditEvent{Event: EventLogoutAll, UserID: userID, Domain: u.Domain, Actor: actorOr(ctx, ActorUser)})
	return nil
}

// endSessions ends every session and token of the user issued until now,
// except those of session spare ("" for none) — the caller of a password
// change keeps working (SPEC §3a).
func (a *Accounts) endSessions(ctx context.Context, userID, spare string) error {
	if userID == "" {
		return fmt.Errorf("%w: no subject", ErrUnauthenticated)
	}
	return setNotBefore(ctx, a.rev, userID, a.now(), a.cfg.RefreshAbsolute, spare)
}

// setNotBefore sets userID's not-before to now, kept for keep (the
// longest a refresh family lives), sparing session spare: the one
// mechanism behind logout everywhere, password changes, account deletion
// and disabling (UserAdmin). Every node reads it from the shared
// revocation store on each token, refresh and session check. Returns an
// error wrapping storage.ErrUnavailable.
func setNotBefore(ctx context.Context, rev storage.RevocationStore, userID string, now time.Time, keep time.Duration, spare string) error {
	if err := rev.SetNotBefore(ctx, userID, now, now.Add(keep), spare); err != nil {
		return fmt.Errorf("provider: end sessions: %w", err)
	}
	return nil
}

// awaitNotBefore delays issuing tokens for userID until a token stamped
// with the current whole second would not count as issued before the
// user's not-before (see LogoutAll). The spared session is ignored: the
// token to be minted belongs to a new session, never the spared one.
// Usually the not-before is absent or
// in the past and this is one store read.
func (a *Accounts) awaitNotBefore(ctx context.Context, userID string) error {
	nb, _, err := a.rev.NotBefore(ctx, userID)
	if err != nil {
		return fmt.Errorf("provider: not-before: %w", err)
	}
	for i := 0; i < 3; i++ {
		stamp := a.now().Truncate(time.Second)
		if !keys.RevokedByNotBefore(stamp, "", nb, "") {
			return nil
		}
		// nb more than a second ahead would be a clock problem between
		// nodes; do not stall a login for it, the token is refused anyway
		// until clocks agree.
		wait := nb.Sub(stamp)
		if wait > time.Second+time.Millisecond {
			return nil
		}
		if err := a.sleep(ctx, nb.Truncate(time.Second).Add(time.Second).Sub(a.now())); err != nil {
			return err
		}
	}
	return errors.New("provider: not-before wait did not finish")
}

// realSleep waits d on the wall clock, or until ctx ends.
func realSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
