package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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

// Defaults of LifecycleConfig (SPEC §3a).
const (
	DefaultVerifyTTL        = 24 * time.Hour
	DefaultResetTTL         = 30 * time.Minute
	DefaultMailAddressLimit = "5/1h"

	mailTokenBytes  = 32 // 256 bits, ≥ 128 (SEC-52)
	maxMailTokenLen = 100
	mailKeyPrefix   = "mail-addr:"
)

// ErrBadMailToken: a verification or reset link that is unknown, used,
// expired, for another purpose, or whose user is gone (400). One text for
// all, so a link reveals nothing about why it failed.
var ErrBadMailToken error = &accountError{"This link is invalid or has expired. Please request a new one."}

// oneTimeTokens is the part of storage.SessionStore the lifecycle needs.
type oneTimeTokens interface {
	SaveOneTimeToken(ctx context.Context, t storage.OneTimeToken) error
	ConsumeOneTimeToken(ctx context.Context, hash, purpose string) (storage.OneTimeToken, error)
}

// mailEnqueuer hands a mail to the background sender (*MailQueue) without
// blocking.
type mailEnqueuer interface {
	Enqueue(m Mail) bool
}

// LifecycleConfig configures Lifecycle. Zero values take the defaults.
type LifecycleConfig struct {
	// BaseURL is the issuer: links are BaseURL+"/verify-email?token=…"
	// and BaseURL+"/password/reset?token=…". Required.
	BaseURL   string
	VerifyTTL time.Duration // verification links (24 h)
	ResetTTL  time.Duration // reset links (30 min)
	// AddressLimit bounds resend and forgot requests per address and
	// purpose ("N/DURATION", "0" = off), so nobody can flood a mailbox.
	AddressLimit string
}

// Lifecycle is the mail-backed part of the account lifecycle (SPEC §3a):
// email verification and password reset. It exists only when a mailer is
// configured; without one users are activated at signup. Safe for
// concurrent use.
type Lifecycle struct {
	acc    *Accounts
	tokens oneTimeTokens
	mail   mailEnqueuer
	addrRL *RateLimiter
	cfg    LifecycleConfig
	now    func() time.Time
	log    *slog.Logger
}

// NewLifecycle wires the lifecycle over the account service, the one-time
// token store, the mail queue and the shared rate store (nil only with
// AddressLimit "0"). now nil means the Accounts clock; log nil discards.
// Returns an error for a missing dependency or a bad limit.
func NewLifecycle(acc *Accounts, tokens oneTimeTokens, mail mailEnqueuer, rate storage.RateStore,
	cfg LifecycleConfig, now func() time.Time, log *slog.Logger) (*Lifecycle, error) {
	if acc == nil || tokens == nil || mail == nil || cfg.BaseURL == "" {
		return nil, errors.New("provider: lifecycle: missing dependency")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.VerifyTTL <= 0 {
		cfg.VerifyTTL = DefaultVerifyTTL
	}
	if cfg.ResetTTL <= 0 {
		cfg.ResetTTL = DefaultResetTTL
	}
	if cfg.AddressLimit == "" {
		cfg.AddressLimit = DefaultMailAddressLimit
	}
	if now == nil {
		now = acc.now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rl, err := NewRateLimiter(rate, cfg.AddressLimit, WithRateClock(now))
	if err != nil {
		return nil, fmt.Errorf("provider: lifecycle: address limit: %w", err)
	}
	return &Lifecycle{acc: acc, tokens: tokens, mail: mail, addrRL: rl, cfg: cfg, now: now, log: log}, nil
}

// SendVerification stores a verification token for u (24 h) and queues the
// mail with its link. Nothing happens for a user already verified. Called
// after a signup; the mail itself goes out in the background (SEC-53).
// Returns an error wrapping storage.ErrUnavailable when the token cannot
// be stored.
func (l *Lifecycle) SendVerification(ctx context.Context, u storage.User) error {
	if u.IsActivated {
		return nil
	}
	tok, hash := NewSecret(mailTokenBytes)
	return l.issue(ctx, u, hash, PurposeVerifyEmail, l.cfg.VerifyTTL, verifyMail(u.Email, l.cfg.BaseURL+"/verify-email?token="+tok))
}

// issue stores the token and queues the mail. The token appears only in
// the mail; logs name the user id.
func (l *Lifecycle) issue(ctx context.Context, u storage.User, hash, purpose string, ttl time.Duration, m Mail) error {
	err := l.tokens.SaveOneTimeToken(ctx, storage.OneTimeToken{
		Hash: hash, Purpose: purpose, UserID: u.ID, ExpiresAt: l.now().Add(ttl),
	})
	if err != nil {
		return fmt.Errorf("provider: save %s token: %w", purpose, err)
	}
	if l.mail.Enqueue(m) {
		l.log.InfoContext(ctx, "mail queued", "purpose", purpose, "user_id", u.ID)
	}
	return nil
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
	return u, nil
}

// consume takes the token out of the store (single use, even when it turns
// out expired) and loads its user. The store keeps tokens until their
// expiry on its own clock; the check against l.now makes the lifetime
// exact under an injected clock too.
func (l *Lifecycle) consume(ctx context.Context, token, purpose string) (storage.User, error) {
	if token == "" || len(token) > maxMailTokenLen {
		return storage.User{}, ErrBadMailToken
	}
	t, err := l.tokens.ConsumeOneTimeToken(ctx, HashSecret(token), purpose)
	if isNotFound(err) {
		return storage.User{}, ErrBadMailToken
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: consume %s token: %w", purpose, err)
	}
	if !l.now().Before(t.ExpiresAt) || t.Purpose != purpose {
		return storage.User{}, ErrBadMailToken
	}
	u, err := l.acc.users.UserByID(ctx, t.UserID)
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
	return l.issue(ctx, u, hash, PurposeVerifyEmail, l.cfg.VerifyTTL, verifyMail(u.Email, l.cfg.BaseURL+"/verify-email?token="+tok))
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
	return l.issue(ctx, u, hash, PurposeResetPassword, l.cfg.ResetTTL, resetMail(u.Email, l.cfg.BaseURL+"/password/reset?token="+tok))
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
	return u, nil
}

// storePassword saves the password pw, with c, into u (savePassword) and
// revokes everything the user held. Returns the errors of savePassword.
func (a *Accounts) storePassword(ctx context.Context, u *storage.User, pw string, c storage.UserChange) error {
	if err := a.savePassword(ctx, u, pw, c); err != nil {
		return err
	}
	return a.LogoutAll(ctx, u.ID)
}

func verifyMail(to, link string) Mail {
	return Mail{To: to, Subject: "Verify your email address", Text: "Hello,\n\n" +
		"please confirm the email address of your User Registry account by opening this link\n" +
		"(valid for 24 hours, once):\n\n" + link + "\n\n" +
		"If you did not sign up, ignore this mail.\n"}
}

func resetMail(to, link string) Mail {
	return Mail{To: to, Subject: "Reset your password", Text: "Hello,\n\n" +
		"someone asked to reset the password of your User Registry account. To choose a new\n" +
		"password, open this link (valid for 30 minutes, once):\n\n" + link + "\n\n" +
		"If it was not you, ignore this mail; your password stays as it is.\n"}
}
