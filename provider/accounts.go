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

// Defaults of AccountsConfig (SPEC §1, §3, §7).
const (
	DefaultAccessTTL       = keys.DefaultTokenTTL
	DefaultRefreshTTL      = 168 * time.Hour
	DefaultRefreshAbsolute = 720 * time.Hour
	DefaultLoginClientID   = "user-registry"
	DefaultLoginScope      = "openid email phone"
	DefaultLoginLimit      = "10/15m"

	// revocationGrace is kept beyond a token's exp on its revocation
	// entry, matching the verifier's clock skew (SEC-4), so a revoked
	// token cannot come back to life on a node whose clock is behind.
	revocationGrace = keys.Skew
)

// AccountsConfig configures Accounts. Zero durations and empty strings take
// the defaults above.
type AccountsConfig struct {
	LoginAudience   []string      // aud of /login and /refresh tokens (--login-audience); required
	AccessTTL       time.Duration // lifetime of access tokens (as configured in keys.TokenConfig)
	RefreshTTL      time.Duration // idle lifetime of a refresh token
	RefreshAbsolute time.Duration // absolute lifetime of a refresh family (session)
	LoginClientID   string        // client_id of /login tokens
	LoginScope      string        // scope of /login tokens
	// LoginLimit is the per-account failed-login limit "N/DURATION"
	// (--limit-login-account); "0" turns it off. "" means the default.
	LoginLimit string
	// RequireVerified refuses login of users whose email is not verified
	// (--require-verified-email) with ErrNotVerified.
	RequireVerified bool
	// ActivateAtSignup marks new users verified at once: true when no
	// mailer is configured (SPEC §3a). Use DefaultAccountsConfig to get
	// true; the zero value means "the mail flow verifies".
	ActivateAtSignup bool
	// FailureFloor is the least time a failed password check (unknown
	// address, wrong password, unusable hash) takes, from its start, so
	// the time does not tell which accounts exist or were imported
	// (SEC-26, SEC-75; see failurefloor.go). serve sets it from
	// Hasher.CalibrateFailureFloor. 0 means no floor; more than
	// MaxFailureFloor means MaxFailureFloor.
	FailureFloor time.Duration
	// Sleep waits d or until ctx ends; nil means a wall-clock timer. It is
	// used for the ≤ 1 s pause after a not-before (see LogoutAll) and to
	// hold failed logins to FailureFloor; tests with a fake clock inject
	// one that advances it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultAccountsConfig returns the defaults for audience aud (the issuer
// unless --login-audience says otherwise), with activation at signup.
func DefaultAccountsConfig(aud ...string) AccountsConfig {
	return AccountsConfig{
		LoginAudience:    aud,
		AccessTTL:        DefaultAccessTTL,
		RefreshTTL:       DefaultRefreshTTL,
		RefreshAbsolute:  DefaultRefreshAbsolute,
		LoginClientID:    DefaultLoginClientID,
		LoginScope:       DefaultLoginScope,
		LoginLimit:       DefaultLoginLimit,
		ActivateAtSignup: true,
	}
}

func (c AccountsConfig) withDefaults() (AccountsConfig, error) {
	if len(c.LoginAudience) == 0 {
		return c, errors.New("provider: accounts: login audience required")
	}
	if c.AccessTTL <= 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if c.RefreshAbsolute <= 0 {
		c.RefreshAbsolute = DefaultRefreshAbsolute
	}
	if c.RefreshAbsolute < c.RefreshTTL {
		c.RefreshTTL = c.RefreshAbsolute
	}
	if c.LoginClientID == "" {
		c.LoginClientID = DefaultLoginClientID
	}
	if c.LoginScope == "" {
		c.LoginScope = DefaultLoginScope
	}
	if c.LoginLimit == "" {
		c.LoginLimit = DefaultLoginLimit
	}
	c.FailureFloor = min(max(c.FailureFloor, 0), MaxFailureFloor)
	if c.Sleep == nil {
		c.Sleep = realSleep
	}
	return c, nil
}

// tokenService is what Accounts needs from the token service
// (*keys.Tokens): minting access tokens and verifying them, including the
// revocation checks (jti, sid, per-user not-before).
type tokenService interface {
	MintAccess(ctx context.Context, c keys.AccessClaims) (string, keys.AccessClaims, error)
	VerifyAccess(ctx context.Context, token, audience string) (keys.AccessClaims, error)
}

// Accounts is the user-account service behind /signup, /login, /logout,
// /refresh, /update, /me and the password endpoints. It knows nothing about
// HTTP: the web layer decodes requests, calls it, and maps the returned
// errors (see errors_accounts.go, ErrInvalidInput, storage.ErrUnavailable)
// to responses. Safe for concurrent use.
type Accounts struct {
	users        storage.UserStore
	policy       *DomainPolicy
	hasher       *Hasher
	tokens       tokenService
	refresh      storage.RefreshStore
	rev          storage.RevocationStore
	consents     consentEraser
	verification verificationSender
	loginRL      *RateLimiter
	audit        Auditor
	logouts      *Logouts // nil: no browser sessions to end (tests, tools)
	sleep        func(ctx context.Context, d time.Duration) error
	cfg          AccountsConfig
	now          func() time.Time
	log          *slog.Logger
}

// consentEraser is the part of storage.SessionStore that account deletion
// needs: the code flow's consents are kept per user id.
type consentEraser interface {
	DeleteUserConsents(ctx context.Context, userID string) error
}

// verificationSender queues the verification mail of a new, unverified
// user (*MailLinks).
type verificationSender interface {
	SendVerification(ctx context.Context, u storage.User) error
}

// AccountDeps are what Accounts is built from. Every store and service is
// required except Rate (only with Config.LoginLimit "0") and Verification.
type AccountDeps struct {
	Users  storage.UserStore
	Policy *DomainPolicy // decides which domains may sign up
	Hasher *Hasher
	// Tokens mints and verifies access tokens (*keys.Tokens).
	Tokens tokenService
	// Refresh keeps the refresh-token families (sessions).
	Refresh storage.RefreshStore
	// Revocations keeps revoked jti and sid entries and each user's
	// not-before (logout, logout everywhere, password changes).
	Revocations storage.RevocationStore
	// Rate holds the per-account failed-login counters, shared by all
	// nodes. The limiter computes Retry-After with Now, which must
	// therefore be the clock Rate counts with (the wall clock for the
	// limiter library's stores).
	Rate storage.RateStore
	// Consents are the code flow's approvals (the session store);
	// DeleteAccount removes the deleted user's.
	Consents consentEraser
	// Verification queues the verification mail after a signup
	// (*MailLinks); nil when no mailer is configured, and users are then
	// activated at signup (Config.ActivateAtSignup).
	Verification verificationSender
	Config       AccountsConfig
	Now          func() time.Time // nil means time.Now
	Log          *slog.Logger     // nil discards

	// Audit records the account's security events (SPEC §13); nil
	// records nothing.
	Audit Auditor

	// Logouts, when set, ends the browser session a code-flow token's
	// family belongs to when that family ends by logout or reuse, and so
	// tells the session's apps (SPEC §12).
	Logouts *Logouts
}

// NewAccounts wires the account service. It fails when a required
// dependency is missing or the configuration is invalid (no login
// audience, a bad login limit).
func NewAccounts(d AccountDeps) (*Accounts, error) {
	cfg, err := d.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	if d.Users == nil || d.Policy == nil || d.Hasher == nil || d.Tokens == nil || d.Refresh == nil ||
		d.Revocations == nil || d.Consents == nil {
		return nil, errors.New("provider: accounts: missing dependency")
	}
	now, log := d.Now, d.Log
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rl, err := NewRateLimiter(d.Rate, cfg.LoginLimit, WithRateClock(now))
	if err != nil {
		return nil, fmt.Errorf("provider: accounts: login limit: %w", err)
	}
	return &Accounts{
		users: d.Users, policy: d.Policy, hasher: d.Hasher, tokens: d.Tokens, refresh: d.Refresh,
		rev: d.Revocations, consents: d.Consents, verification: d.Verification, loginRL: rl,
		sleep: cfg.Sleep, cfg: cfg, now: now, log: log, audit: auditorOr(d.Audit), logouts: d.Logouts,
	}, nil
}

// FirstParty admits the claims of a first-party token: one /login or
// /refresh issued, for client LoginClientID. The account endpoints (/me,
// /update, /password, /logout/all, /clients) call it, so that an app a
// user let sign them in, whose token names the app as client, cannot read
// or change the account; such apps have /userinfo, which honours their
// scopes. Returns ErrForeignToken otherwise.
func (a *Accounts) FirstParty(c keys.AccessClaims) error {
	if c.ClientID != a.cfg.LoginClientID {
		return ErrForeignToken
	}
	return nil
}

// Me returns the user userID: the sub of a verified access token, or the
// user an authorization code was issued to. Returns ErrUnauthenticated
// when the user no longer exists or is disabled, or an error wrapping
// storage.ErrUnavailable.
func (a *Accounts) Me(ctx context.Context, userID string) (storage.User, error) {
	return a.user(ctx, userID)
}

// user loads userID, mapping a missing or disabled user to
// ErrUnauthenticated: every caller holds a token or code for it, and a
// token whose user is gone or disabled (SPEC §13) is useless. Disabling
// also sets the user's not-before, which refuses the tokens themselves;
// this check is the second lock, for the refresh tokens, codes and
// sessions presented after it.
func (a *Accounts) user(ctx context.Context, userID string) (storage.User, error) {
	u, err := a.users.UserByID(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, fmt.Errorf("%w: user no longer exists", ErrUnauthenticated)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: load user: %w", err)
	}
	if u.Disabled {
		return storage.User{}, fmt.Errorf("%w: user disabled", ErrUnauthenticated)
	}
	return u, nil
}

// Verify checks an access token presented to one of our own endpoints:
// signature, issuer, type, expiry and revocation (jti, sid, per-user
// not-before), without an audience check, since the server accepts both
// its /login tokens and code-flow tokens issued to other clients. Returns
// ErrUnauthenticated for a bad token, or an error wrapping
// storage.ErrUnavailable when revocation cannot be checked (SEC-18).
func (a *Accounts) Verify(ctx context.Context, accessToken string) (keys.AccessClaims, error) {
	if accessToken == "" {
		return keys.AccessClaims{}, fmt.Errorf("%w: no token", ErrUnauthenticated)
	}
	c, err := a.tokens.VerifyAccess(ctx, accessToken, "")
	switch {
	case err == nil:
	case errors.Is(err, storage.ErrUnavailable):
		return keys.AccessClaims{}, fmt.Errorf("provider: verify token: %w", err)
	case errors.Is(err, keys.ErrInvalidToken):
		return keys.AccessClaims{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	default:
		return keys.AccessClaims{}, fmt.Errorf("provider: verify token: %w", err)
	}
	if c.Subject == "" {
		return keys.AccessClaims{}, fmt.Errorf("%w: token has no subject", ErrUnauthenticated)
	}
	return c, nil
}
