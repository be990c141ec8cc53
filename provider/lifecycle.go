package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"user-registry/storage"
)

// One-time token purposes (storage.OneTimeToken.Purpose). The store
// consumes a token only under its own purpose, so a verification link can
// never reset a password and vice versa (SEC-52).
const (
	PurposeVerifyEmail   = "verify-email"
	PurposeResetPassword = "reset-password"
)

// Defaults of MailLinkDeps and LifecycleDeps (SPEC §3a).
const (
	DefaultVerifyTTL        = 24 * time.Hour
	DefaultResetTTL         = 30 * time.Minute
	DefaultMailAddressLimit = "5/1h"

	mailKeyPrefix = "mail-addr:"
)

// ErrBadMailToken: a verification or reset link that is unknown, used,
// expired, for another purpose, or whose user is gone (400). One text for
// all, so a link reveals nothing about why it failed.
var ErrBadMailToken error = &accountError{"This link is invalid or has expired. Please request a new one."}

// Lifecycle is the mail-backed part of the account lifecycle (SPEC §3a):
// email verification, resending its link, and password reset. The links
// themselves are MailLinks'. Safe for concurrent use.
type Lifecycle struct {
	acc    *Accounts
	links  *MailLinks
	addrRL *RateLimiter
	now    func() time.Time
	log    *slog.Logger
}

// LifecycleDeps are what Lifecycle is built from. Accounts and Links are
// required; Rate only when AddressLimit is not "0".
type LifecycleDeps struct {
	// Accounts stores reset passwords and ends the user's sessions.
	Accounts *Accounts
	// Links issues and redeems the mailed links.
	Links *MailLinks
	// Rate holds the per-address request counters, shared by all nodes.
	Rate storage.RateStore
	// AddressLimit bounds resend and forgot requests per address and
	// purpose ("N/DURATION", "0" = off), so nobody can flood a mailbox;
	// "" means DefaultMailAddressLimit.
	AddressLimit string
	Now          func() time.Time // nil means time.Now
	Log          *slog.Logger     // nil discards
}

// NewLifecycle wires the lifecycle. Returns an error for a missing
// dependency or a bad limit.
func NewLifecycle(d LifecycleDeps) (*Lifecycle, error) {
	if d.Accounts == nil || d.Links == nil {
		return nil, errors.New("provider: lifecycle: missing dependency")
	}
	limit, now, log := d.AddressLimit, d.Now, d.Log
	if limit == "" {
		limit = DefaultMailAddressLimit
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rl, err := NewRateLimiter(d.Rate, limit, WithRateClock(now))
	if err != nil {
		return nil, fmt.Errorf("provider: lifecycle: address limit: %w", err)
	}
	return &Lifecycle{acc: d.Accounts, links: d.Links, addrRL: rl, now: now, log: log}, nil
}

// VerifyEmail consumes a verification token and marks its user verified
// (idempotent for a user verified meanwhile). Returns ErrBadMailToken for
// an unknown, used, expired or reset token, or an error wrapping
// storage.ErrUnavailable.
func (l *Lifecycle) VerifyEmail(ctx context.Context, token string) (storage.User, error) {
	u, err := l.consume(ctx, token, PurposeVerifyEmail)
	if err != nil {
		return storage.User{}, err
	}
	if u.IsActivated {
		return u, nil
	}
	// Only is_activated: a password changed since the token was consumed
	// stays (SEC-73).
	change := storage.UserChange{IsActivated: ptrTo(true), UpdatedAt: l.now().UTC()}
	if err := l.acc.users.UpdateUser(ctx, u.ID, change); err != nil {
		if isNotFound(err) {
			return storage.User{}, ErrBadMailToken
		}
		return storage.User{}, fmt.Errorf("provider: verify email: %w", err)
	}
	u.IsActivated, u.UpdatedAt = true, change.UpdatedAt
	l.log.InfoContext(ctx, "email verified", "user_id", u.ID)
	l.acc.audit.Record(ctx, userEvent(EventEmailVerified, u))
	return u, nil
}

// consume redeems the token (MailLinks.redeem) and loads its user.
func (l *Lifecycle) consume(ctx context.Context, token, purpose string) (storage.User, error) {
	userID, err := l.links.redeem(ctx, token, purpose)
	if err != nil {
		return storage.User{}, err
	}
	u, err := l.acc.users.UserByID(ctx, userID)
	if isNotFound(err) {
		return storage.User{}, ErrBadMailToken // account deleted since
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: load user: %w", err)
	}
	return u, nil
}

// ResendVerification queues a new verification mail when email belongs to
// an unverified user. Every address gets the same outcome and the same
// work (lookup, token generation), so the answer reveals nothing
// (SEC-53); requests are limited per address. Returns *RateLimitError or
// an error wrapping storage.ErrUnavailable.
func (l *Lifecycle) ResendVerification(ctx context.Context, email string) error {
	u, tok, hash, found, err := l.prepare(ctx, email, PurposeVerifyEmail)
	if err != nil || !found || u.IsActivated {
		return err
	}
	return l.links.issue(ctx, u, PurposeVerifyEmail, tok, hash)
}

// ForgotPassword queues a reset mail (30 min link) when email belongs to a
// user, verified or not. Same outcome and work for every address
// (SEC-53), limited per address. Returns *RateLimitError or an error
// wrapping storage.ErrUnavailable.
func (l *Lifecycle) ForgotPassword(ctx context.Context, email string) error {
	u, tok, hash, found, err := l.prepare(ctx, email, PurposeResetPassword)
	if err != nil || !found {
		return err
	}
	return l.links.issue(ctx, u, PurposeResetPassword, tok, hash)
}

// prepare is the common, address-independent part of resend and forgot:
// count the request against the address, look the user up, generate a
// token. An unparsable address is treated as an unknown one.
func (l *Lifecycle) prepare(ctx context.Context, email, purpose string) (u storage.User, tok, hash string, found bool, err error) {
	parsed, key, perr := parseLimitKey(email)
	if _, err := l.addrRL.Allow(ctx, mailKeyPrefix+purpose+":"+key); err != nil {
		return storage.User{}, "", "", false, err
	}
	err = storage.ErrNotFound
	if perr == nil {
		u, err = l.acc.users.UserByEmail(ctx, parsed.Canonical)
	}
	tok, hash = NewSecret(mailTokenBytes)
	switch {
	case err == nil:
		return u, tok, hash, true, nil
	case isNotFound(err):
		return storage.User{}, "", "", false, nil
	default:
		return storage.User{}, "", "", false, fmt.Errorf("provider: %s: load user: %w", purpose, err)
	}
}

// ResetPassword sets a new password with a reset token (SPEC §3a). The
// password policy is checked first, so a weak password does not burn the
// link. The user is marked verified too: following the link proved
// control of the mailbox. Every session and token of the user is revoked
// (SEC-54). Returns an error wrapping ErrInvalidInput, ErrBadMailToken,
// or an error wrapping storage.ErrUnavailable.
func (l *Lifecycle) ResetPassword(ctx context.Context, token, password string) (storage.User, error) {
	pw, err := CheckPassword(password)
	if err != nil {
		return storage.User{}, err
	}
	u, err := l.consume(ctx, token, PurposeResetPassword)
	if err != nil {
		return storage.User{}, err
	}
	// Unconditional: the link proves the right to set any password.
	if err := l.acc.storePassword(ctx, &u, pw, storage.UserChange{IsActivated: ptrTo(true)}); err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return storage.User{}, ErrBadMailToken
		}
		return storage.User{}, err
	}
	l.log.InfoContext(ctx, "password reset", "user_id", u.ID)
	l.acc.audit.Record(ctx, userEvent(EventPasswordReset, u))
	return u, nil
}

// SetPassword changes the password of a signed-in browser user after
// checking the current one (the account page). Unlike ChangePassword it
// issues no tokens: the page re-issues its own session. Every session and
// token of the user is revoked (SEC-54). Returns an error wrapping
// ErrInvalidInput, ErrWrongPassword, *RateLimitError, ErrUnauthenticated
// (user gone) or an error wrapping storage.ErrUnavailable.
func (a *Accounts) SetPassword(ctx context.Context, userID, current, next string) (storage.User, error) {
	pw, err := CheckPassword(next)
	if err != nil {
		return storage.User{}, err
	}
	u, err := a.checkOwnPassword(ctx, userID, current)
	if err != nil {
		return storage.User{}, err
	}
	if err := a.storePassword(ctx, &u, pw, sinceChecked(u)); err != nil {
		return storage.User{}, err
	}
	a.log.InfoContext(ctx, "password changed", "user_id", u.ID)
	a.audit.Record(ctx, userEvent(EventPasswordChanged, u))
	return u, nil
}

// storePassword saves the password pw, with c, into u (savePassword) and
// revokes everything the user held. Returns the errors of savePassword.
func (a *Accounts) storePassword(ctx context.Context, u *storage.User, pw string, c storage.UserChange) error {
	if err := a.savePassword(ctx, u, pw, c); err != nil {
		return err
	}
	// Not LogoutAll: the password event stands for this logout.
	return a.endSessions(ctx, u.ID, "")
}
