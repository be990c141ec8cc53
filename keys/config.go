package keys

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Config and TokenConfig (SPEC §1).
const (
	DefaultAlg            = "ES256"
	DefaultRotation       = 2160 * time.Hour
	DefaultJWKSMaxAge     = 10 * time.Minute
	DefaultTokenTTL       = 10 * time.Minute
	DefaultReloadInterval = 15 * time.Second

	// Skew is the clock skew tolerated on exp, nbf and iat (SEC-4); it is
	// also the grace a retired key stays published after its last token.
	Skew = 30 * time.Second

	// propagation bounds how long a key row takes to reach every node's
	// JWKS (SPEC §1: key changes show within 30 s). A new key signs only
	// after JWKSMaxAge plus this, so a client that fetched the JWKS from a
	// node that had not reloaded yet still holds the key in time (SEC-9).
	propagation = 30 * time.Second

	// kidReloadEvery rate-limits store reloads triggered by an unknown kid
	// during verification, so forged kids cannot hammer the database.
	kidReloadEvery = 5 * time.Second

	secretSize = 32
)

// Config configures a Manager. Zero values take the defaults above.
type Config struct {
	Alg            string        // "ES256" (default), "RS256" (2048-bit) or "EdDSA" for new keys
	Secret         []byte        // 32-byte key-encryption key (SEC-10); required
	Rotation       time.Duration // age at which the active key is replaced
	JWKSMaxAge     time.Duration // JWKS Cache-Control max-age and pre-publication period
	TokenTTL       time.Duration // lifetime of tokens signed by a key, for retirement
	ReloadInterval time.Duration // Run reloads the store this often (≤ 30 s)
	Now            func() time.Time
	Log            *slog.Logger
	// OnCreate, when set, is called after this manager stored a new key
	// (the first one, a scheduled or an emergency rotation), with the
	// context of the call that made it: the caller audits rotations
	// without this package knowing about auditing.
	OnCreate func(ctx context.Context, kid string, generation int64, emergency bool)
}

func (c Config) withDefaults() (Config, error) {
	if c.Alg == "" {
		c.Alg = DefaultAlg
	}
	if _, ok := algorithms[c.Alg]; !ok {
		return c, fmt.Errorf("keys: unsupported signing alg %q (want ES256, RS256 or EdDSA)", c.Alg)
	}
	if len(c.Secret) != secretSize {
		return c, fmt.Errorf("keys: key secret must be %d bytes, got %d", secretSize, len(c.Secret))
	}
	if c.Rotation <= 0 {
		c.Rotation = DefaultRotation
	}
	if c.JWKSMaxAge <= 0 {
		c.JWKSMaxAge = DefaultJWKSMaxAge
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.ReloadInterval <= 0 || c.ReloadInterval > propagation {
		c.ReloadInterval = DefaultReloadInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
