package keys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"user-registry/storage"
)

// TokenConfig configures Tokens.
type TokenConfig struct {
	Issuer    string           // iss of every token; required
	AccessTTL time.Duration    // lifetime of access and ID tokens (default 10m)
	Now       func() time.Time // nil: the Manager's clock
}

// Tokens mints and verifies every JWT of the server: access tokens (user and
// authority, typ at+jwt) and ID tokens (typ JWT). Minting touches no store;
// VerifyAccess consults the revocation store.
type Tokens struct {
	keys   *Manager
	rev    storage.RevocationStore
	issuer string
	ttl    time.Duration
	now    func() time.Time
	bufs   sync.Pool // *[]byte scratch buffers for the hot path
}

// NewTokens returns the token service. rev may be nil only for a service
// that never calls VerifyAccess or Revoke (then they fail closed).
func NewTokens(m *Manager, rev storage.RevocationStore, cfg TokenConfig) *Tokens {
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = m.cfg.Now
	}
	t := &Tokens{keys: m, rev: rev, issuer: cfg.Issuer, ttl: cfg.AccessTTL, now: cfg.Now}
	t.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	return t
}

// Issuer returns the configured issuer.
func (t *Tokens) Issuer() string { return t.issuer }

// AccessTTL returns the lifetime of minted tokens (for expires_in).
func (t *Tokens) AccessTTL() time.Duration { return t.ttl }

// newJTI returns 128 random bits, base64url.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// MintAccess signs an access token (typ at+jwt). It fills Issuer, JTI,
// IssuedAt, NotBefore and ExpiresAt (whole seconds, as encoded) and returns
// the completed claims. An empty Audience becomes [issuer]. Returns
// ErrNoSigningKey when no key may sign.
func (t *Tokens) MintAccess(_ context.Context, c AccessClaims) (string, AccessClaims, error) {
	if c.Subject == "" {
		return "", c, errors.New("keys: access token without subject")
	}
	now := time.Unix(t.now().Unix(), 0)
	sk, err := t.keys.signing(t.now())
	if err != nil {
		return "", c, err
	}
	c.Issuer, c.JTI = t.issuer, newJTI()
	c.IssuedAt, c.NotBefore, c.ExpiresAt = now, now, now.Add(t.ttl)
	if len(c.Audience) == 0 {
		c.Audience = []string{t.issuer}
	}

	bp := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(bp)
	b := append((*bp)[:0], `{"iss":`...)
	b = appendString(b, c.Issuer)
	b = appendField(b, "sub", c.Subject)
	b = append(b, `,"aud":[`...)
	for i, a := range c.Audience {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, a)
	}
	b = append(b, ']')
	b = appendField(b, "client_id", c.ClientID)
	b = appendField(b, "scope", c.Scope)
	if c.Email != "" {
		b = appendField(b, "email", c.Email)
	}
	if c.Domain != "" {
		b = appendField(b, "domain", c.Domain)
	}
	if c.IsActivated != nil {
		b = appendBool(b, "is_activated", *c.IsActivated)
	}
	if c.SID != "" {
		b = appendField(b, "sid", c.SID)
	}
	b = appendAuthn(b, c.AMR, c.ACR)
	if c.JKT != "" {
		b = append(b, `,"cnf":{"jkt":`...)
		b = appendString(b, c.JKT)
		b = append(b, '}')
	}
	b = appendTime(b, "iat", c.IssuedAt)
	b = appendTime(b, "nbf", c.NotBefore)
	b = appendTime(b, "exp", c.ExpiresAt)
	b = appendField(b, "jti", c.JTI)
	b = append(b, '}')
	*bp = b

	tok, err := t.sign(sk, sk.atHeader, b)
	return tok, c, err
}

// MintID signs an OIDC ID token (typ JWT, aud = client id) and returns it.
// Issuer and times are filled here (exp = now + AccessTTL); c.AtHash is
// used as given — MintIDFor computes it from the access token.
func (t *Tokens) MintID(ctx context.Context, c IDClaims) (string, error) {
	tok, _, err := t.mintID(c, "")
	return tok, err
}

// MintIDFor is MintID with at_hash computed from accessToken using the hash
// of the key that signs the ID token (SHA-256 for ES256/RS256, SHA-512 for
// EdDSA). It returns the claims as encoded.
func (t *Tokens) MintIDFor(_ context.Context, c IDClaims, accessToken string) (string, IDClaims, error) {
	return t.mintID(c, accessToken)
}

func (t *Tokens) mintID(c IDClaims, accessToken string) (string, IDClaims, error) {
	if c.Subject == "" || c.Audience == "" {
		return "", c, errors.New("keys: id token without subject or audience")
	}
	now := time.Unix(t.now().Unix(), 0)
	sk, err := t.keys.signing(t.now())
	if err != nil {
		return "", c, err
	}
	c.Issuer, c.IssuedAt, c.ExpiresAt = t.issuer, now, now.Add(t.ttl)
	if accessToken != "" {
		c.AtHash = AtHash(sk.alg, accessToken)
	}

	bp := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(bp)
	b := append((*bp)[:0], `{"iss":`...)
	b = appendString(b, c.Issuer)
	b = appendField(b, "sub", c.Subject)
	b = appendField(b, "aud", c.Audience)
	if c.Nonce != "" {
		b = appendField(b, "nonce", c.Nonce)
	}
	if c.AtHash != "" {
		b = appendField(b, "at_hash", c.AtHash)
	}
	if c.Email != "" {
		b = appendField(b, "email", c.Email)
	}
	if c.EmailVerified != nil {
		b = appendBool(b, "email_verified", *c.EmailVerified)
	}
	if c.SID != "" {
		b = appendField(b, "sid", c.SID)
	}
	b = appendAuthn(b, c.AMR, c.ACR)
	if !c.AuthTime.IsZero() {
		b = appendTime(b, "auth_time", c.AuthTime)
	}
	b = appendTime(b, "iat", c.IssuedAt)
	b = appendTime(b, "exp", c.ExpiresAt)
	b = append(b, '}')
	*bp = b

	tok, err := t.sign(sk, sk.idHeader, b)
	return tok, c, err
}

// sign assembles header.payload, has jwx's signer sign it and appends the
// signature. jwx is used only as the signer: header and claims are ours.
func (t *Tokens) sign(sk *signingKey, header string, claims []byte) (string, error) {
	op := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(op)
	out := append((*op)[:0], header...)
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, claims)
	sig, err := sk.signer.Sign(out, sk.key)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, sig)
	*op = out
	return string(out), nil
}

// Revoke revokes an access token by jti until its expiry plus skew (SEC-7,
// SEC-12). Store failures wrap storage.ErrUnavailable as returned.
func (t *Tokens) Revoke(ctx context.Context, c AccessClaims) error {
	if c.JTI == "" {
		return fmt.Errorf("%w: no jti", ErrInvalidToken)
	}
	if t.rev == nil {
		return fmt.Errorf("keys: no revocation store: %w", storage.ErrUnavailable)
	}
	return t.rev.Revoke(ctx, c.JTI, c.ExpiresAt.Add(Skew))
}
