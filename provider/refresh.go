package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"user-registry/keys"
	"user-registry/storage"
)

// refreshSecretBytes is the entropy of a refresh token's secret part: 256
// bits from crypto/rand (SEC-16).
const refreshSecretBytes = 32

// maxRefreshTokenLen bounds what we parse and hash: a UUID, a dot and 43
// base64url characters are 80 bytes.
const maxRefreshTokenLen = 128

// TokenPair is what /login, /refresh and the code flow hand out.
type TokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"` // "" when the grant has none
	TokenType    string `json:"token_type"`              // "Bearer"
	ExpiresIn    int    `json:"expires_in"`              // seconds
	// Claims are the access token's claims as minted (jti, sid, times),
	// for callers that need them: an ID token's sid and at_hash, logs.
	Claims keys.AccessClaims `json:"-"`
}

// Grant describes the tokens to issue for a user. /login uses the login
// client's grant (IssueTokens); the OAuth code flow passes its client's.
type Grant struct {
	ClientID string
	Scope    string
	Audience []string
	// FamilyID is the session (sid) the tokens belong to. "" starts a new
	// one. A given FamilyID with WithRefresh starts that family's first
	// refresh token (the code flow fixes the family when it issues a code).
	FamilyID string
	// WithRefresh issues a refresh token (login; offline_access).
	WithRefresh bool
	// Bind is the DPoP key the tokens are bound to (SPEC §11).
	Bind Binding
	// AMR is how the user signed in (RFC 8176, SPEC §10); the tokens
	// carry it with the acr it implies (ACRFor), and a new refresh
	// family remembers both for the tokens refreshed from it.
	AMR []string
}

// Binding is the DPoP key of a token request (SPEC §11, RFC 9449 §5).
type Binding struct {
	// JKT is the thumbprint of the request's proof key; "" without a
	// proof. The access token carries it as cnf.jkt.
	JKT string
	// Refresh binds the refresh token too: for public clients and
	// first-party sign-in, which have no client authentication to bind it
	// to (RFC 9449 §5). Using it then needs a proof of the same key.
	Refresh bool
}

// refreshJKT is the binding a new refresh token records.
func (b Binding) refreshJKT() string {
	if b.Refresh {
		return b.JKT
	}
	return ""
}

// IssueTokens issues /login tokens for user: client LoginClientID, scope
// LoginScope, audience LoginAudience, a new session with a refresh token.
// Errors wrap storage.ErrUnavailable or keys.ErrNoSigningKey.
func (a *Accounts) IssueTokens(ctx context.Context, u storage.User) (TokenPair, error) {
	return a.IssueTokensFor(ctx, u, a.loginGrant(""))
}

// IssueTokensBound is IssueTokens with both tokens bound to the DPoP key
// jkt ("" = unbound): first-party sign-in has no client authentication, so
// the refresh token is bound too (SPEC §11).
func (a *Accounts) IssueTokensBound(ctx context.Context, u storage.User, jkt string) (TokenPair, error) {
	g := a.loginGrant("")
	g.Bind = Binding{JKT: jkt, Refresh: true}
	return a.IssueTokensFor(ctx, u, g)
}

func (a *Accounts) loginGrant(familyID string) Grant {
	return Grant{
		ClientID:    a.cfg.LoginClientID,
		Scope:       a.cfg.LoginScope,
		Audience:    a.cfg.LoginAudience,
		FamilyID:    familyID,
		WithRefresh: true,
	}
}

// IssueTokensFor mints an access token for u under g and, with
// g.WithRefresh, the first refresh token of the family g.FamilyID (a new
// family when empty). The refresh token is stored hashed, bound to the user
// and client, with idle expiry RefreshTTL and absolute expiry
// RefreshAbsolute (SEC-16). The access token's sid is the family id, so
// logging out the session revokes its access tokens too. Right after the
// user's not-before it may wait up to a second (see LogoutAll). Errors wrap
// storage.ErrUnavailable (storage.ErrExists when the family already has a
// current token) or keys.ErrNoSigningKey.
func (a *Accounts) IssueTokensFor(ctx context.Context, u storage.User, g Grant) (TokenPair, error) {
	if g.FamilyID == "" {
		g.FamilyID = uuid.NewString()
	}
	if err := a.awaitNotBefore(ctx, u.ID); err != nil {
		return TokenPair{}, err
	}
	var refresh string
	if g.WithRefresh {
		now := a.now()
		tok, hash := newRefreshToken(g.FamilyID)
		famExp := now.Add(a.cfg.RefreshAbsolute)
		err := a.refresh.CreateRefresh(ctx, storage.RefreshToken{
			Hash:            hash,
			FamilyID:        g.FamilyID,
			UserID:          u.ID,
			ClientID:        g.ClientID,
			Scope:           g.Scope,
			IssuedAt:        now,
			ExpiresAt:       minTime(now.Add(a.cfg.RefreshTTL), famExp),
			FamilyExpiresAt: famExp,
			JKT:             g.Bind.refreshJKT(),
			AMR:             g.AMR,
			ACR:             ACRFor(g.AMR),
		})
		if err != nil {
			return TokenPair{}, fmt.Errorf("provider: store refresh token: %w", err)
		}
		refresh = tok
	}
	return a.mint(ctx, u, g, refresh)
}

// mint signs the access token of a grant and assembles the pair.
func (a *Accounts) mint(ctx context.Context, u storage.User, g Grant, refresh string) (TokenPair, error) {
	activated := u.IsActivated
	access, claims, err := a.tokens.MintAccess(ctx, keys.AccessClaims{
		Subject:     u.ID,
		Audience:    g.Audience,
		ClientID:    g.ClientID,
		Scope:       g.Scope,
		Email:       u.Email,
		Domain:      u.Domain,
		IsActivated: &activated,
		SID:         g.FamilyID,
		JKT:         g.Bind.JKT,
		AMR:         g.AMR,
		ACR:         ACRFor(g.AMR),
	})
	if err != nil {
		return TokenPair{}, fmt.Errorf("provider: mint access token: %w", err)
	}
	expiresIn := a.cfg.AccessTTL
	if !claims.ExpiresAt.IsZero() && !claims.IssuedAt.IsZero() {
		expiresIn = claims.ExpiresAt.Sub(claims.IssuedAt)
	}
	return TokenPair{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    tokenTypeFor(g.Bind.JKT),
		ExpiresIn:    int(expiresIn / time.Second),
		Claims:       claims,
	}, nil
}

// Refresh rotates a /login refresh token presented to /refresh (client
// LoginClientID) and returns new tokens with the same session. See
// RefreshFor for the errors.
func (a *Accounts) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	return a.RefreshBound(ctx, refreshToken, "")
}

// RefreshBound is Refresh with a DPoP proof of the key jkt ("" = none):
// the new tokens are bound to it, the refresh token too (SPEC §11). A
// bound refresh token needs a proof of its key.
func (a *Accounts) RefreshBound(ctx context.Context, refreshToken, jkt string) (TokenPair, error) {
	return a.RefreshWith(ctx, refreshToken, a.cfg.LoginClientID, nil, "", Binding{JKT: jkt, Refresh: true})
}

// RefreshFor is RefreshWith without a DPoP proof.
func (a *Accounts) RefreshFor(ctx context.Context, refreshToken, clientID string, audience []string, scope string) (TokenPair, error) {
	return a.RefreshWith(ctx, refreshToken, clientID, audience, scope, Binding{})
}

// RefreshWith rotates refreshToken for clientID (SEC-16/17) and mints a new
// access token with the family's sid, scope and client; audience nil means
// LoginAudience. The token must be the family's current one, issued to
// clientID, for a user that still exists and whose not-before (logout
// everywhere, password change) is not after the token. Presenting an
// already rotated token revokes the family and its sid, so every token of
// the session dies (reuse detection; of two concurrent uses at most one
// succeeds).
//
// scope is the scope of a token request (RFC 6749 §6): when not empty,
// each of its scopes must be in the token's, checked on the record read
// anyway; otherwise a variant of ErrInvalidScope is returned and the token
// is left as it is.
//
// b is the request's DPoP binding (SPEC §11): a refresh token bound to a
// key is usable only with a proof of that key (b.JKT), and is refused
// otherwise without being rotated, so a thief without the key cannot even
// end the session; the new access token is bound to b.JKT; the new refresh
// token keeps the family's binding, or takes b.JKT with b.Refresh.
//
// Returns ErrUnauthenticated for any unusable token, or an error wrapping
// storage.ErrUnavailable.
func (a *Accounts) RefreshWith(ctx context.Context, refreshToken, clientID string, audience []string, scope string, b Binding) (TokenPair, error) {
	familyID, ok := parseRefreshToken(refreshToken)
	if !ok {
		return TokenPair{}, fmt.Errorf("%w: malformed refresh token", ErrUnauthenticated)
	}
	oldHash := hashRefreshToken(refreshToken)
	// The record is read first: the next token copies its user, client,
	// scope and absolute expiry, and a wrong client must not burn it.
	old, err := a.refresh.RefreshToken(ctx, familyID, oldHash)
	if errors.Is(err, storage.ErrNotFound) {
		// Not current: unknown, expired, revoked, or already rotated.
		// Only RotateRefresh tells reuse apart, and revokes the family.
		return TokenPair{}, a.rejectStale(ctx, familyID, oldHash, clientID)
	}
	if err != nil {
		return TokenPair{}, fmt.Errorf("provider: refresh: %w", err)
	}
	if old.ClientID != clientID {
		return TokenPair{}, fmt.Errorf("%w: refresh token issued to another client", ErrUnauthenticated)
	}
	if old.JKT != "" && old.JKT != b.JKT {
		return TokenPair{}, fmt.Errorf("%w: refresh token bound to another DPoP key", ErrUnauthenticated)
	}
	jkt := old.JKT
	if jkt == "" {
		jkt = b.refreshJKT()
	}
	have := splitScope(old.Scope)
	for _, s := range splitScope(scope) {
		if !slices.Contains(have, s) {
			return TokenPair{}, clientErrorf(ErrInvalidScope, "The requested scope exceeds the scope of the refresh token")
		}
	}
	u, err := a.user(ctx, old.UserID)
	if err != nil {
		return TokenPair{}, a.endFamily(ctx, familyID, err)
	}
	nb, spare, err := a.rev.NotBefore(ctx, u.ID)
	if err != nil {
		return TokenPair{}, fmt.Errorf("provider: refresh: not-before: %w", err)
	}
	if keys.RevokedByNotBefore(old.IssuedAt, familyID, nb, spare) {
		return TokenPair{}, a.endFamily(ctx, familyID,
			fmt.Errorf("%w: session ended by logout everywhere", ErrUnauthenticated))
	}
	if err := a.mfaStillSatisfied(ctx, u, old.AMR); errors.Is(err, ErrUnauthenticated) {
		return TokenPair{}, a.endFamily(ctx, familyID, err)
	} else if err != nil {
		return TokenPair{}, err // an outage keeps the session
	}

	now := a.now()
	tok, hash := newRefreshToken(familyID)
	famExp := old.FamilyExpiresAt
	next := storage.RefreshToken{
		Hash:            hash,
		FamilyID:        familyID,
		UserID:          old.UserID,
		ClientID:        old.ClientID,
		Scope:           old.Scope,
		IssuedAt:        now,
		ExpiresAt:       minTime(now.Add(a.cfg.RefreshTTL), famExp),
		FamilyExpiresAt: famExp,
		JKT:             jkt,
		AMR:             old.AMR,
		ACR:             old.ACR,
	}
	if _, err := a.refresh.RotateRefresh(ctx, familyID, oldHash, next); err != nil {
		return TokenPair{}, a.rotateFailed(ctx, familyID, err, old)
	}
	if audience == nil {
		audience = a.cfg.LoginAudience
	}
	g := Grant{ClientID: old.ClientID, Scope: old.Scope, Audience: audience, FamilyID: familyID, Bind: b, AMR: old.AMR}
	return a.mint(ctx, u, g, tok)
}

// rejectStale handles a token that is not its family's current one:
// RotateRefresh with an empty successor detects reuse (and revokes the
// family); anything else is simply unknown.
func (a *Accounts) rejectStale(ctx context.Context, familyID, oldHash, clientID string) error {
	_, err := a.refresh.RotateRefresh(ctx, familyID, oldHash, storage.RefreshToken{})
	if err == nil {
		// Became current between the two calls, which rotation never
		// allows; refuse and make sure the empty successor is not kept.
		return a.endFamily(ctx, familyID, fmt.Errorf("%w: refresh token state changed", ErrUnauthenticated))
	}
	return a.rotateFailed(ctx, familyID, err, storage.RefreshToken{ClientID: clientID})
}

// rotateFailed maps a RotateRefresh error. On reuse the store has revoked
// the family; the sid is revoked too so the session's access tokens die.
// old is what is known of the token (its user only when it was read
// before a racing rotation), for the audit event.
func (a *Accounts) rotateFailed(ctx context.Context, familyID string, err error, old storage.RefreshToken) error {
	switch {
	case errors.Is(err, storage.ErrReused):
		a.log.WarnContext(ctx, "refresh token reuse: session revoked", "sid", familyID)
		a.audit.Record(ctx, AuditEvent{Event: EventRefreshReuse, UserID: old.UserID, ClientID: old.ClientID, Detail: detailReuseRevoked})
		if rerr := a.rev.Revoke(ctx, familyID, a.now().Add(a.cfg.RefreshAbsolute)); rerr != nil {
			return fmt.Errorf("provider: refresh reuse: revoke session: %w", rerr)
		}
		if rerr := a.endBrowserSession(ctx, familyID); rerr != nil {
			return fmt.Errorf("provider: refresh reuse: %w", rerr)
		}
		return fmt.Errorf("%w: refresh token reused", ErrUnauthenticated)
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: unknown or expired refresh token", ErrUnauthenticated)
	default:
		return fmt.Errorf("provider: refresh: %w", err)
	}
}

// endFamily revokes a family that can no longer be used and returns cause
// (or the revocation failure, which matters more: 503 over 401).
func (a *Accounts) endFamily(ctx context.Context, familyID string, cause error) error {
	if err := a.refresh.RevokeFamily(ctx, familyID); err != nil {
		return fmt.Errorf("provider: revoke refresh family: %w", err)
	}
	return cause
}

// newRefreshToken returns an opaque refresh token "<familyID>.<secret>"
// (the secret made like every stored-hashed secret, secrets.go) and the
// hash under which it is stored.
func newRefreshToken(familyID string) (token, hash string) {
	token = familyID + "." + randomText(refreshSecretBytes)
	return token, hashRefreshToken(token)
}

// hashRefreshToken is the stored form: hex SHA-256 of the whole token. A
// fast hash is enough for 256-bit secrets (nothing to brute-force). It stays
// hex, unlike HashSecret: refresh tokens live up to RefreshAbsolute (30
// days) in the session store, and a token issued before an upgrade must
// still be found, and rotated rather than taken for a reused one.
func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// parseRefreshToken returns the family id of a well-formed token.
func parseRefreshToken(token string) (familyID string, ok bool) {
	if len(token) > maxRefreshTokenLen {
		return "", false
	}
	familyID, secret, ok := strings.Cut(token, ".")
	if !ok || secret == "" {
		return "", false
	}
	if _, err := uuid.Parse(familyID); err != nil || len(familyID) != 36 {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", false
	}
	return familyID, true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
