package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"user-registry/keys"
	"user-registry/storage"
)

// Token types reported by IntrospectToken (RFC 7662 token_type). Access
// tokens are Bearer tokens (RFC 6749 §5.1, RFC 6750); refresh tokens have no
// registered token type, so they are named after their grant.
const (
	TokenTypeAccess  = "Bearer"
	TokenTypeRefresh = "refresh_token"
)

// ErrInsufficientScope: a valid access token that does not allow the
// request, such as a token without the openid scope, or a client's own
// (authority) token, at /userinfo (insufficient_scope, 403; RFC 6750 §3.1).
var ErrInsufficientScope error = &clientError{msg: "The access token does not allow this request"}

// TokenInfo describes an active token, as introspection reports it.
type TokenInfo struct {
	TokenType string // TokenTypeAccess or TokenTypeRefresh
	Subject   string // user UUID, or the client id of an authority token
	ClientID  string
	Scope     string
	Domain    string   // the user's (or the authority client's) domain
	Username  string   // the user's email; "" for authority tokens
	Audience  []string // access tokens only
	JTI       string   // access tokens only
	IssuedAt  time.Time
	ExpiresAt time.Time
	// JKT is the thumbprint of the DPoP key the token is bound to ("" =
	// unbound), reported as cnf.jkt (RFC 9449 §6.2).
	JKT string
}

// IntrospectToken answers the authenticated client caller about token
// (RFC 7662). It reports whether token is an active access token
// (signature, issuer, type, expiry and revocation: jti, sid, the subject's
// not-before) or an active refresh token (the current token of its family,
// unexpired, the family not revoked, issued after the user's not-before, for
// a user that still exists), and describes it. Anything else — malformed,
// unknown, expired, revoked, rotated, an ID token, or a token caller may not
// introspect (mayIntrospect: a client a user registered sees only its own
// tokens) — is simply not active (ok false, nil error): the caller must not
// learn why (SEC-15).
//
// Returns an error wrapping storage.ErrUnavailable when a store that decides
// the answer cannot be read: the token is never reported active without its
// revocation state (SEC-18).
func (a *Accounts) IntrospectToken(ctx context.Context, caller storage.Client, token string) (TokenInfo, bool, error) {
	info, ok, err := a.tokenInfo(ctx, token)
	if err != nil || !ok || !mayIntrospect(caller, info.ClientID) {
		return TokenInfo{}, false, err
	}
	return info, true, nil
}

// tokenInfo is IntrospectToken for a caller that may introspect any token.
func (a *Accounts) tokenInfo(ctx context.Context, token string) (info TokenInfo, ok bool, err error) {
	if familyID, isRefresh := parseRefreshToken(token); isRefresh {
		return a.introspectRefresh(ctx, familyID, token)
	}
	c, err := a.tokens.VerifyAccess(ctx, token, "")
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return TokenInfo{}, false, fmt.Errorf("provider: introspect: %w", err)
		}
		// keys returns ErrInvalidToken or ErrUnavailable; anything else is
		// treated as invalid too (inactive is the closed answer).
		return TokenInfo{}, false, nil
	}
	return TokenInfo{
		TokenType: tokenTypeFor(c.JKT), // Bearer, or DPoP (RFC 9449 §6.2)
		JKT:       c.JKT,
		Subject:   c.Subject,
		ClientID:  c.ClientID,
		Scope:     c.Scope,
		Domain:    c.Domain,
		Username:  c.Email,
		Audience:  c.Audience,
		JTI:       c.JTI,
		IssuedAt:  c.IssuedAt,
		ExpiresAt: c.ExpiresAt,
	}, true, nil
}

// introspectRefresh is IntrospectToken for a well-formed refresh token.
func (a *Accounts) introspectRefresh(ctx context.Context, familyID, token string) (TokenInfo, bool, error) {
	rec, err := a.refresh.RefreshToken(ctx, familyID, hashRefreshToken(token))
	if errors.Is(err, storage.ErrNotFound) {
		return TokenInfo{}, false, nil
	}
	if err != nil {
		return TokenInfo{}, false, fmt.Errorf("provider: introspect refresh token: %w", err)
	}
	// The store drops expired tokens itself; checking again here keeps
	// the answer right on a store whose expiry is coarse (Redis TTLs).
	now := a.now()
	if !now.Before(rec.ExpiresAt) || (!rec.FamilyExpiresAt.IsZero() && !now.Before(rec.FamilyExpiresAt)) {
		return TokenInfo{}, false, nil
	}
	// A revoked sid means the session ended (logout, reuse detection)
	// even if deleting the family failed half-way.
	revoked, err := a.rev.IsRevoked(ctx, familyID)
	if err != nil {
		return TokenInfo{}, false, fmt.Errorf("provider: introspect refresh token: %w", err)
	}
	if revoked {
		return TokenInfo{}, false, nil
	}
	nb, spare, err := a.rev.NotBefore(ctx, rec.UserID)
	if err != nil {
		return TokenInfo{}, false, fmt.Errorf("provider: introspect refresh token: not-before: %w", err)
	}
	if keys.RevokedByNotBefore(rec.IssuedAt, rec.FamilyID, nb, spare) {
		return TokenInfo{}, false, nil
	}
	u, err := a.user(ctx, rec.UserID)
	if errors.Is(err, ErrUnauthenticated) {
		return TokenInfo{}, false, nil
	}
	if err != nil {
		return TokenInfo{}, false, err
	}
	return TokenInfo{
		TokenType: TokenTypeRefresh,
		JKT:       rec.JKT,
		Subject:   rec.UserID,
		ClientID:  rec.ClientID,
		Scope:     rec.Scope,
		Domain:    u.Domain,
		Username:  u.Email,
		IssuedAt:  rec.IssuedAt,
		ExpiresAt: rec.ExpiresAt,
	}, true, nil
}

// RevokeToken revokes token on behalf of the authenticated client clientID
// (RFC 7009). An access token issued to clientID is revoked by jti until its
// exp plus the verifier's skew, so every re-encoding of it stays revoked
// (SEC-7). A refresh token issued to clientID ends its whole session: the
// sid is revoked (the family's access tokens die) and the family deleted,
// as Logout does.
//
// A token that is malformed, unknown, expired, already revoked, or issued
// to another client is left alone and RevokeToken returns nil: RFC 7009
// §2.2 answers 200 either way, and a client cannot revoke — or probe —
// another client's tokens (SEC-14).
//
// The access token is checked with VerifyAccess (revocation included)
// rather than a signature-only parse: a token that is already revoked or
// expired needs no new entry, and the revocation store must answer anyway
// for the revocation to be written.
//
// Returns an error wrapping storage.ErrUnavailable when the revocation
// could not be checked or written (the caller must not report success).
func (a *Accounts) RevokeToken(ctx context.Context, token, clientID string) error {
	if clientID == "" {
		return ErrBadClient
	}
	if familyID, isRefresh := parseRefreshToken(token); isRefresh {
		rec, err := a.refresh.RefreshToken(ctx, familyID, hashRefreshToken(token))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("provider: revoke refresh token: %w", err)
		}
		if rec.ClientID != clientID {
			a.log.InfoContext(ctx, "revocation of another client's refresh token ignored", "client_id", clientID)
			return nil
		}
		return a.EndSession(ctx, familyID)
	}
	c, err := a.tokens.VerifyAccess(ctx, token, "")
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return fmt.Errorf("provider: revoke access token: %w", err)
		}
		return nil
	}
	if c.ClientID != clientID {
		a.log.InfoContext(ctx, "revocation of another client's access token ignored", "client_id", clientID)
		return nil
	}
	if err := a.revokeAccess(ctx, c); err != nil {
		return fmt.Errorf("provider: revoke access token: %w", err)
	}
	return nil
}

// UserInfo is the OIDC UserInfo answer (OIDC Core §5.3.2), per scope:
// email and email_verified with scope email, phone_number with scope phone
// when the user has one.
type UserInfo struct {
	Subject       string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	PhoneNumber   string `json:"phone_number,omitempty"`
}

// UserInfoFor returns the claims a verified access token c may read about
// its user. The token's scope must include openid, and it must be a user
// token: an authority token (sub = its client) describes no user.
//
// Returns ErrInsufficientScope for those, ErrUnauthenticated when the user
// no longer exists, or an error wrapping storage.ErrUnavailable.
func (a *Accounts) UserInfoFor(ctx context.Context, c keys.AccessClaims) (UserInfo, error) {
	scopes := strings.Fields(c.Scope)
	if !slices.Contains(scopes, "openid") {
		return UserInfo{}, clientErrorf(ErrInsufficientScope, "The access token lacks the openid scope")
	}
	if IsAuthorityToken(c) {
		return UserInfo{}, clientErrorf(ErrInsufficientScope, "A client's own token describes no user")
	}
	u, err := a.user(ctx, c.Subject)
	if err != nil {
		return UserInfo{}, err
	}
	info := UserInfo{Subject: u.ID}
	if slices.Contains(scopes, "email") {
		verified := u.IsActivated
		info.Email, info.EmailVerified = u.Email, &verified
	}
	if slices.Contains(scopes, "phone") {
		info.PhoneNumber = u.PhoneNum
	}
	return info, nil
}

// IsAuthorityToken reports whether c is a client's own token
// (client_credentials): its subject is the client and it carries no user
// claims. User tokens always carry is_activated.
func IsAuthorityToken(c keys.AccessClaims) bool {
	return c.Subject == c.ClientID && c.IsActivated == nil && c.Email == ""
}
