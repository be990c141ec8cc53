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
	DefaultAccessTTL       = 10 * time.Minute
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
	users   storage.UserStore
	policy  *DomainPolicy
	hasher  *Hasher
	tokens  tokenService
	refresh storage.RefreshStore
	rev     storage.RevocationStore
	loginRL *RateLimiter
	sleep   func(ctx context.Context, d time.Duration) error
	cfg     AccountsConfig
	now     func() time.Time
	log     *slog.Logger
}

// NewAccounts wires the account service. rate is the rate-limit counter
// store (shared by all nodes); it may be nil when cfg.LoginLimit is "0".
// now nil means time.Now, log nil discards. The login limiter computes
// Retry-After with now, which must therefore be the clock rate counts with
// (the wall clock for the limiter library's stores).
func NewAccounts(users storage.UserStore, policy *DomainPolicy, hasher *Hasher, tokens tokenService,
	refresh storage.RefreshStore, rev storage.RevocationStore, rate storage.RateStore,
	cfg AccountsConfig, now func() time.Time, log *slog.Logger) (*Accounts, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if users == nil || policy == nil || hasher == nil || tokens == nil || refresh == nil || rev == nil {
		return nil, errors.New("provider: accounts: missing dependency")
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rl, err := NewRateLimiter(rate, cfg.LoginLimit, WithRateClock(now))
	if err != nil {
		return nil, fmt.Errorf("provider: accounts: login limit: %w", err)
	}
	return &Accounts{
		users: users, policy: policy, hasher: hasher, tokens: tokens,
		refresh: refresh, rev: rev, loginRL: rl, sleep: cfg.Sleep, cfg: cfg, now: now, log: log,
	}, nil
}

// Config returns the effective configuration (defaults applied).
func (a *Accounts) Config() AccountsConfig { return a.cfg }

// Me returns the user userID (from a verified access token's sub).
// Returns ErrUnauthenticated when the user no longer exists, or an error
// wrapping storage.ErrUnavailable.
func (a *Accounts) Me(ctx context.Context, userID string) (storage.User, error) {
	return a.user(ctx, userID)
}

// user loads userID, mapping a missing user to ErrUnauthenticated: every
// caller holds a token for it, and a token whose user is gone is useless.
func (a *Accounts) user(ctx context.Context, userID string) (storage.User, error) {
	u, err := a.users.UserByID(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, fmt.Errorf("%w: user no longer exists", ErrUnauthenticated)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: load user: %w", err)
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
