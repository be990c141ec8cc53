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

const (
	mailTokenBytes  = 32 // 256 bits, ≥ 128 (SEC-52)
	maxMailTokenLen = 100
)

// oneTimeTokens is the part of storage.SessionStore the mail links need.
type oneTimeTokens interface {
	SaveOneTimeToken(ctx context.Context, t storage.OneTimeToken) error
	ConsumeOneTimeToken(ctx context.Context, hash, purpose string) (storage.OneTimeToken, error)
}

// mailEnqueuer hands a mail to the background sender (*MailQueue) without
// blocking.
type mailEnqueuer interface {
	Enqueue(m Mail) bool
}

// MailLinkDeps are what MailLinks is built from. Tokens, Mail and BaseURL
// are required.
type MailLinkDeps struct {
	// Tokens keeps the links' one-time tokens (the session store, shared
	// by every node).
	Tokens oneTimeTokens
	// Mail queues the mails (*MailQueue): they go out in the background,
	// so no answer waits for, or reveals, a delivery (SEC-53).
	Mail mailEnqueuer
	// BaseURL is the issuer: links are BaseURL+"/verify-email?token=…"
	// and BaseURL+"/password/reset?token=…".
	BaseURL   string
	VerifyTTL time.Duration    // verification links; zero means DefaultVerifyTTL
	ResetTTL  time.Duration    // reset links; zero means DefaultResetTTL
	Now       func() time.Time // nil means time.Now
	Log       *slog.Logger     // nil discards
}

// MailLinks owns the one-time links of the account lifecycle (SPEC §3a):
// it issues them (a token stored hashed, a mail queued with the link) and
// redeems them. Accounts uses it to send the verification mail of a new
// user, Lifecycle for resend, reset and the redemption of both kinds.
// Safe for concurrent use.
type MailLinks struct {
	tokens    oneTimeTokens
	mail      mailEnqueuer
	baseURL   string
	verifyTTL time.Duration
	resetTTL  time.Duration
	now       func() time.Time
	log       *slog.Logger
}

// NewMailLinks builds the link service; it fails when a required
// dependency is missing.
func NewMailLinks(d MailLinkDeps) (*MailLinks, error) {
	if d.Tokens == nil || d.Mail == nil || d.BaseURL == "" {
		return nil, errors.New("provider: mail links: missing dependency")
	}
	m := &MailLinks{
		tokens: d.Tokens, mail: d.Mail, baseURL: strings.TrimRight(d.BaseURL, "/"),
		verifyTTL: d.VerifyTTL, resetTTL: d.ResetTTL, now: d.Now, log: d.Log,
	}
	if m.verifyTTL <= 0 {
		m.verifyTTL = DefaultVerifyTTL
	}
	if m.resetTTL <= 0 {
		m.resetTTL = DefaultResetTTL
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

// SendVerification stores a verification token for u (24 h) and queues the
// mail with its link. Nothing happens for a user already verified. Called
// by Accounts.Signup; the mail itself goes out in the background (SEC-53).
// Returns an error wrapping storage.ErrUnavailable when the token cannot
// be stored.
func (m *MailLinks) SendVerification(ctx context.Context, u storage.User) error {
	if u.IsActivated {
		return nil
	}
	tok, hash := NewSecret(mailTokenBytes) // 256 bits; the store sees only the hash (SEC-52)
	return m.issue(ctx, u, PurposeVerifyEmail, tok, hash)
}

// issue stores the token (by its hash) for purpose and queues the mail
// carrying its link. The token appears only in the mail; logs name the
// user id.
func (m *MailLinks) issue(ctx context.Context, u storage.User, purpose, tok, hash string) error {
	ttl, mail := m.verifyTTL, verifyMail(u.Email, m.baseURL+"/verify-email?token="+tok)
	if purpose == PurposeResetPassword {
		ttl, mail = m.resetTTL, resetMail(u.Email, m.baseURL+"/password/reset?token="+tok)
	}
	err := m.tokens.SaveOneTimeToken(ctx, storage.OneTimeToken{
		Hash: hash, Purpose: purpose, UserID: u.ID, ExpiresAt: m.now().Add(ttl),
	})
	if err != nil {
		return fmt.Errorf("provider: save %s token: %w", purpose, err)
	}
	if m.mail.Enqueue(mail) {
		m.log.InfoContext(ctx, "mail queued", "purpose", purpose, "user_id", u.ID)
	}
	return nil
}

// redeem takes the token out of the store (single use, even when it turns
// out expired) and returns the id of its user. The store keeps tokens
// until their expiry on its own clock; the check against now makes the
// lifetime exact under an injected clock too. Returns ErrBadMailToken for
// an unknown, used, expired or other-purpose token, or an error wrapping
// storage.ErrUnavailable.
func (m *MailLinks) redeem(ctx context.Context, token, purpose string) (userID string, err error) {
	if token == "" || len(token) > maxMailTokenLen {
		return "", ErrBadMailToken
	}
	t, err := m.tokens.ConsumeOneTimeToken(ctx, HashSecret(token), purpose)
	if isNotFound(err) {
		return "", ErrBadMailToken
	}
	if err != nil {
		return "", fmt.Errorf("provider: consume %s token: %w", purpose, err)
	}
	if !m.now().Before(t.ExpiresAt) || t.Purpose != purpose {
		return "", ErrBadMailToken
	}
	return t.UserID, nil
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
