package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"user-registry/keys"
	"user-registry/storage"
)

// ChangePassword sets a new password for the user of the verified access
// token c, after checking the current one (SPEC §3a). Every other session
// and token of the user is revoked (SEC-54) by a not-before that spares the
// caller's session (c.SID): the calling token and its refresh token keep
// working. A token without a session id spares nothing.
//
// Wrong current passwords count against the per-account login limit.
// Returns an error wrapping ErrInvalidInput (new password policy),
// ErrWrongPassword (also when the password changed after the check, see
// savePassword), *RateLimitError, ErrUnauthenticated (user gone), or an
// error wrapping storage.ErrUnavailable.
func (a *Accounts) ChangePassword(ctx context.Context, c keys.AccessClaims, current, next string) error {
	pw, err := CheckPassword(next)
	if err != nil {
		return err
	}
	u, err := a.checkOwnPassword(ctx, c.Subject, current)
	if err != nil {
		return err
	}
	if err := a.savePassword(ctx, &u, pw, sinceChecked(u)); err != nil {
		return err
	}
	if err := a.endSessions(ctx, u.ID, c.SID); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "password changed", "user_id", u.ID)
	a.audit.Record(ctx, userEvent(EventPasswordChanged, u))
	return nil
}

// DeleteAccount deletes the user after checking the password (SPEC §3a):
// every token and session is revoked first (not-before), then the user
// record goes, so the address can sign up again. The user's consents are
// removed last, on a best effort basis: the account is already gone, the
// consents are keyed by its never-reused id, and an error now would only
// make the client retry into a 401; a failure is logged. Browser sessions
// end by the not-before; the caller clears its own cookie.
//
// Returns ErrWrongPassword, *RateLimitError, ErrUnauthenticated (user
// gone), or an error wrapping storage.ErrUnavailable.
func (a *Accounts) DeleteAccount(ctx context.Context, userID, password string) error {
	u, err := a.checkOwnPassword(ctx, userID, password)
	if err != nil {
		return err
	}
	if err := a.removeAccount(ctx, u); err != nil {
		return err
	}
	a.audit.Record(ctx, userEvent(EventAccountDeleted, u))
	return nil
}

// removeAccount is DeleteAccount after the password check.
func (a *Accounts) removeAccount(ctx context.Context, u storage.User) error {
	r := accountRemover{users: a.users, rev: a.rev, consents: a.consents, keep: a.cfg.RefreshAbsolute, now: a.now, log: a.log}
	return r.remove(ctx, u)
}

// accountRemover deletes accounts: the one deletion path, shared by the
// owner (DeleteAccount) and the operators (UserAdmin.Delete).
type accountRemover struct {
	users    storage.UserStore
	rev      storage.RevocationStore
	consents consentEraser
	keep     time.Duration // how long the not-before entry is kept
	now      func() time.Time
	log      *slog.Logger
}

// remove revokes every token and session of u (not-before), deletes the
// record, then the consents (best effort, see DeleteAccount). Returns
// ErrUnauthenticated when the user is already gone, or an error wrapping
// storage.ErrUnavailable.
func (r accountRemover) remove(ctx context.Context, u storage.User) error {
	if err := setNotBefore(ctx, r.rev, u.ID, r.now(), r.keep, ""); err != nil {
		return err
	}
	if err := r.users.DeleteUser(ctx, u.ID); err != nil {
		if isNotFound(err) {
			return fmt.Errorf("%w: user no longer exists", ErrUnauthenticated)
		}
		return fmt.Errorf("provider: delete account: %w", err)
	}
	r.log.InfoContext(ctx, "account deleted", "user_id", u.ID)
	if err := r.consents.DeleteUserConsents(ctx, u.ID); err != nil {
		r.log.WarnContext(ctx, "consents of deleted user not removed", "user_id", u.ID, "err", err)
	}
	return nil
}

// checkOwnPassword loads userID and checks password against it, under the
// same per-account failure limit as login: a stolen access token must not
// become a password oracle.
func (a *Accounts) checkOwnPassword(ctx context.Context, userID, password string) (_ storage.User, err error) {
	u, err := a.user(ctx, userID)
	if err != nil {
		return storage.User{}, err
	}
	defer func() {
		if errors.Is(err, ErrRateLimited) {
			a.audit.Record(ctx, AuditEvent{Event: EventRateLimited, UserID: u.ID, Domain: u.Domain, Actor: ActorUser, Detail: limitLoginAccount})
		}
	}()
	return limitedCheck(ctx, a, loginKeyPrefix+u.EmailCanonical, func() (storage.User, error) {
		ok, _, err := a.hasher.Verify(ctx, password, u.PasswordHash)
		if err != nil && !errors.Is(err, ErrMalformedHash) {
			return storage.User{}, fmt.Errorf("provider: check password: %w", err)
		}
		if !ok {
			return storage.User{}, ErrWrongPassword
		}
		return u, nil
	})
}

// sinceChecked is the condition of a password write that rests on a check
// of the current password against u: it applies only while u's hash is
// still the stored one.
func sinceChecked(u storage.User) storage.UserChange {
	return storage.UserChange{IfPasswordHash: ptrTo(u.PasswordHash)}
}

// savePassword hashes the (normalized) password pw and writes it, with the
// other columns c names, to u (and into *u). Only those columns are
// written, so nothing changed meanwhile is undone (SEC-73).
//
// A write under a condition (sinceChecked) that finds another password
// stored meanwhile writes nothing and returns ErrWrongPassword: the
// current password the caller proved is no longer current, and a reset
// that answered "Password updated" must not be overwritten by someone who
// knew the old one. Otherwise returns ErrUnauthenticated when the user is
// gone, or an error wrapping storage.ErrUnavailable.
func (a *Accounts) savePassword(ctx context.Context, u *storage.User, pw string, c storage.UserChange) error {
	hash, err := a.hasher.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("provider: set password: hash: %w", err)
	}
	c.PasswordHash = &hash
	c.UpdatedAt = a.now().UTC()
	err = a.users.UpdateUser(ctx, u.ID, c)
	switch {
	case errors.Is(err, storage.ErrConflict):
		a.log.InfoContext(ctx, "password change refused: password changed since the check", "user_id", u.ID)
		return ErrWrongPassword
	case isNotFound(err):
		return fmt.Errorf("%w: user no longer exists", ErrUnauthenticated)
	case err != nil:
		return fmt.Errorf("provider: set password: %w", err)
	}
	u.PasswordHash, u.UpdatedAt = hash, c.UpdatedAt
	if c.IsActivated != nil {
		u.IsActivated = *c.IsActivated
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }
