package provider

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"user-registry/keys"
	"user-registry/storage"
)

// Defaults of CodeFlowDeps.
const (
	// DefaultCodeTTL is the lifetime of an authorization code (SEC-42:
	// at most 60 s).
	DefaultCodeTTL = 60 * time.Second
	// DefaultConsentTTL is how long an approval is remembered.
	DefaultConsentTTL = 30 * 24 * time.Hour
)

// codeBytes is the entropy of an authorization code: 256 bits.
const codeBytes = 32

// ErrInvalidGrant: an authorization code or refresh token that is unknown,
// expired, used, issued to another client or for another redirect URI, or
// a wrong PKCE verifier (invalid_grant, 400). Variants carry a more
// specific message.
var ErrInvalidGrant error = &clientError{msg: "The authorization grant is invalid, expired or was issued to another client"}

func invalidGrant(msg string) error { return clientErrorf(ErrInvalidGrant, msg) }

// idMinter is what the code flow needs of keys.Tokens for ID tokens.
type idMinter interface {
	MintIDFor(ctx context.Context, c keys.IDClaims, accessToken string) (string, keys.IDClaims, error)
}

// grantTokens is what the code flow needs of the account service
// (*Accounts), all through its exported methods: the user a code was
// issued to, the tokens of a grant, refresh rotation, and the end of a
// session whose code was used twice.
type grantTokens interface {
	Me(ctx context.Context, userID string) (storage.User, error)
	IssueTokensFor(ctx context.Context, u storage.User, g Grant) (TokenPair, error)
	RefreshWith(ctx context.Context, refreshToken, clientID string, audience []string, scope string, b Binding) (TokenPair, error)
	EndSession(ctx context.Context, sid string) error
}

// clientLookup finds the client of an authorization request (*Clients).
type clientLookup interface {
	Lookup(ctx context.Context, id string) (storage.Client, error)
}

// CodeFlowDeps are what CodeFlow is built from. Every service and store is
// required; zero durations take the defaults.
type CodeFlowDeps struct {
	// Accounts issues the tokens of the code and refresh grants.
	Accounts grantTokens
	// Clients finds the client an authorization request names.
	Clients clientLookup
	// Store keeps codes and consents (the session store, shared by every
	// node).
	Store storage.SessionStore
	// Revocations answers the user's not-before, which voids the codes of
	// a session that signed out everywhere.
	Revocations storage.RevocationStore
	// IDs mints ID tokens (*keys.Tokens).
	IDs idMinter
	// Logouts, when set, records each client that gets tokens in a
	// browser session, and refuses codes of a session that has ended.
	Logouts *Logouts
	// Policy, when set, tells which domains require a second factor:
	// their users' sign-ins without one are sent to sign in again.
	Policy     mfaPolicy
	CodeTTL    time.Duration    // at most (and by default) DefaultCodeTTL
	ConsentTTL time.Duration    // zero means DefaultConsentTTL
	Now        func() time.Time // nil means time.Now
	Log        *slog.Logger     // nil discards
}

// CodeFlow is the authorization code flow with PKCE for third-party apps
// (SPEC §7): validating authorization requests, the prompt decisions,
// consent, codes, and the authorization_code and refresh_token grants.
// Safe for concurrent use.
type CodeFlow struct {
	accounts   grantTokens
	clients    clientLookup
	sessions   storage.SessionStore
	rev        storage.RevocationStore
	ids        idMinter
	logouts    *Logouts
	policy     mfaPolicy
	codeTTL    time.Duration
	consentTTL time.Duration
	now        func() time.Time
	log        *slog.Logger
}

// mfaPolicy answers whether a domain requires a second factor
// (*DomainPolicy).
type mfaPolicy interface {
	RequireMFA(ctx context.Context, domain string) (bool, error)
}

// NewCodeFlow wires the code flow. It fails when a dependency is missing.
func NewCodeFlow(d CodeFlowDeps) (*CodeFlow, error) {
	if d.Accounts == nil || d.Clients == nil || d.Store == nil || d.Revocations == nil || d.IDs == nil {
		return nil, errors.New("provider: code flow: missing dependency")
	}
	f := &CodeFlow{
		accounts: d.Accounts, clients: d.Clients, sessions: d.Store, rev: d.Revocations, ids: d.IDs, logouts: d.Logouts,
		policy:  d.Policy,
		codeTTL: d.CodeTTL, consentTTL: d.ConsentTTL, now: d.Now, log: d.Log,
	}
	if f.codeTTL <= 0 || f.codeTTL > DefaultCodeTTL {
		f.codeTTL = DefaultCodeTTL
	}
	if f.consentTTL <= 0 {
		f.consentTTL = DefaultConsentTTL
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

// IssueCode stores a new authorization code for the browser sign-in in
// under request req, and returns it. The code is 256 random bits; only its
// hash is stored, with the client, redirect URI, scope, nonce, PKCE
// challenge, the browser session's sid, the sign-in's amr (SPEC §10) and a
// fresh family id (the access tokens' sid), for CodeTTL. Errors wrap
// storage.ErrUnavailable.
func (f *CodeFlow) IssueCode(ctx context.Context, in SignIn, req AuthorizeRequest) (string, error) {
	u, authTime := in.User, in.AuthTime
	code, hash := NewSecret(codeBytes)
	now := f.now()
	err := f.sessions.SaveCode(ctx, storage.AuthCode{
		Hash:          hash,
		ClientID:      req.Client.ID,
		UserID:        u.ID,
		RedirectURI:   req.RedirectURI,
		Scope:         req.Scope(),
		Nonce:         req.Nonce,
		CodeChallenge: req.CodeChallenge,
		FamilyID:      uuid.NewString(),
		SID:           in.SID,
		AuthTime:      authTime,
		AMR:           in.AMR,
		ExpiresAt:     now.Add(f.codeTTL),
	})
	if err != nil {
		return "", fmt.Errorf("provider: save code: %w", err)
	}
	return code, nil
}

// CodeTokens is the answer of the code and refresh grants.
type CodeTokens struct {
	TokenPair
	IDToken string // "" without scope openid (and on refresh)
	Scope   string
}

// CodeExchange is a token request with grant_type=authorization_code.
type CodeExchange struct {
	Code         string
	RedirectURI  string
	CodeVerifier string
	// JKT is the thumbprint of the request's DPoP proof key ("" = none):
	// the access token, and a public client's refresh token, are bound to
	// it (SPEC §11).
	JKT string
}

// Exchange redeems an authorization code for client c (already
// authenticated by the caller). The code is consumed first, so it is
// single-use whatever happens next; presenting it a second time revokes the
// refresh family and the sid of the tokens the first exchange issued
// (SEC-42). Returns ErrUnauthorizedClient when c lacks the grant,
// ErrInvalidRequest for a missing parameter, ErrInvalidGrant (a variant) for
// an unknown, expired, reused code, another client's code, a different
// redirect_uri, a wrong PKCE verifier, or a code issued before the user's
// not-before (checkNotBefore); other errors wrap
// storage.ErrUnavailable or keys.ErrNoSigningKey.
func (f *CodeFlow) Exchange(ctx context.Context, c storage.Client, x CodeExchange) (CodeTokens, error) {
	if !slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
		return CodeTokens{}, ErrUnauthorizedClient
	}
	if x.Code == "" || x.RedirectURI == "" {
		return CodeTokens{}, InvalidRequest("code and redirect_uri are required")
	}
	if len(x.Code) > 128 {
		return CodeTokens{}, invalidGrant("Unknown authorization code")
	}
	code, err := f.sessions.ConsumeCode(ctx, HashSecret(x.Code))
	switch {
	case errors.Is(err, storage.ErrReused):
		return CodeTokens{}, f.revokeCodeFamily(ctx, code)
	case errors.Is(err, storage.ErrNotFound):
		return CodeTokens{}, invalidGrant("Unknown or expired authorization code")
	case err != nil:
		return CodeTokens{}, fmt.Errorf("provider: consume code: %w", err)
	}
	now := f.now()
	switch {
	case !now.Before(code.ExpiresAt):
		return CodeTokens{}, invalidGrant("Unknown or expired authorization code")
	case code.ClientID != c.ID:
		return CodeTokens{}, invalidGrant("The authorization code was issued to another client")
	case code.RedirectURI != x.RedirectURI:
		return CodeTokens{}, invalidGrant("redirect_uri does not match the authorization request")
	}
	if err := checkVerifier(code.CodeChallenge, x.CodeVerifier); err != nil {
		return CodeTokens{}, err
	}
	if err := f.checkNotBefore(ctx, code); err != nil {
		return CodeTokens{}, err
	}
	if f.logouts != nil && code.SID != "" {
		// The client is recorded before its tokens exist, so a session
		// that ends from now on revokes them (Logouts.AddClient).
		if err := f.logouts.AddClient(ctx, code.SID, code.UserID, code.AuthTime, c.ID, code.FamilyID); err != nil {
			return CodeTokens{}, err
		}
	}
	u, err := f.accounts.Me(ctx, code.UserID)
	if errors.Is(err, ErrUnauthenticated) {
		return CodeTokens{}, invalidGrant("The user no longer exists or is disabled")
	}
	if err != nil {
		return CodeTokens{}, err
	}
	scopes := splitScope(code.Scope)
	pair, err := f.accounts.IssueTokensFor(ctx, u, Grant{
		ClientID:    c.ID,
		Scope:       code.Scope,
		Audience:    clientAudience(c),
		FamilyID:    code.FamilyID,
		WithRefresh: slices.Contains(scopes, ScopeOfflineAccess) && slices.Contains(c.GrantTypes, GrantRefreshToken),
		Bind:        Binding{JKT: x.JKT, Refresh: c.Public},
		AMR:         code.AMR,
	})
	if err != nil {
		return CodeTokens{}, err
	}
	out := CodeTokens{TokenPair: pair, Scope: code.Scope}
	if slices.Contains(scopes, ScopeOpenID) {
		// sid names the browser session, the same for every client
		// signed in through it (SPEC §12); a code from a session without
		// one names its family, as before.
		sid := code.SID
		if sid == "" {
			sid = code.FamilyID
		}
		idc := keys.IDClaims{Subject: u.ID, Audience: c.ID, Nonce: code.Nonce, SID: sid, AuthTime: code.AuthTime,
			AMR: code.AMR, ACR: ACRFor(code.AMR)}
		if slices.Contains(scopes, ScopeEmail) {
			verified := u.IsActivated
			idc.Email, idc.EmailVerified = u.Email, &verified
		}
		out.IDToken, _, err = f.ids.MintIDFor(ctx, idc, pair.AccessToken)
		if err != nil {
			return CodeTokens{}, fmt.Errorf("provider: mint id token: %w", err)
		}
	}
	return out, nil
}

// checkNotBefore refuses a code issued before the user's not-before
// (logout everywhere, a password change or reset: SPEC §7): the session
// that approved it has ended, so must its 60 s of grace.
//
// The code's AuthTime is the sign-in time of the browser session that
// issued it, never later than the issue itself, so "signed in before the
// not-before" covers "issued before it" and also a code issued by a session
// the not-before had just ended, in the instant between the session check
// and the code. The session a password change spares is the caller's API
// session (a token's sid); a code comes from a browser session, which a
// not-before always ends (the account page starts a new one), so no code is
// spared.
//
// Returns a variant of ErrInvalidGrant, or an error wrapping
// storage.ErrUnavailable.
func (f *CodeFlow) checkNotBefore(ctx context.Context, code storage.AuthCode) error {
	nb, _, err := f.rev.NotBefore(ctx, code.UserID)
	if err != nil {
		return fmt.Errorf("provider: code: not-before: %w", err)
	}
	// A code is never the spared session: that names an API session.
	if keys.RevokedByNotBefore(code.AuthTime, "", nb, "") {
		return invalidGrant("The authorization code was issued before the user signed out everywhere or changed the password")
	}
	return nil
}

// revokeCodeFamily answers the second use of a code: the session of the
// first exchange ends (its refresh family, and its access tokens through
// their sid), and the request fails with invalid_grant.
func (f *CodeFlow) revokeCodeFamily(ctx context.Context, code storage.AuthCode) error {
	f.log.WarnContext(ctx, "authorization code reused: tokens issued from it revoked",
		"client_id", code.ClientID, "sid", code.FamilyID)
	if code.FamilyID != "" {
		if err := f.accounts.EndSession(ctx, code.FamilyID); err != nil {
			return fmt.Errorf("provider: code reuse: %w", err)
		}
	}
	return invalidGrant("The authorization code was already used; tokens issued from it are revoked")
}

// checkVerifier checks a PKCE verifier (RFC 7636 §4.1: 43–128 unreserved
// characters) against an S256 challenge, in constant time. Without a
// challenge a verifier is refused too (RFC 9700 §2.1.1: PKCE downgrade).
func checkVerifier(challenge, verifier string) error {
	if challenge == "" {
		if verifier != "" {
			return invalidGrant("code_verifier sent, but the authorization request had no code_challenge")
		}
		return nil
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return invalidGrant("code_verifier is missing or malformed")
	}
	for i := 0; i < len(verifier); i++ {
		b := verifier[i]
		if !isBase64URL(b) && b != '.' && b != '~' {
			return invalidGrant("code_verifier is missing or malformed")
		}
	}
	got := S256Challenge(verifier)
	if subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) != 1 {
		return invalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

// clientAudience is the aud of a client's user tokens: its registered
// audiences, else the issuer. A non-nil empty slice means "the issuer" to
// MintAccess, where RefreshFor would read nil as the login audience.
func clientAudience(c storage.Client) []string {
	if len(c.Audiences) > 0 {
		return slices.Clone(c.Audiences)
	}
	return []string{}
}

// RefreshGrant rotates a refresh token presented by client c (already
// authenticated) and returns the new pair with its scope. scope, when not
// empty, must be within the token's scope (RFC 6749 §6); narrowing is not
// supported, so the answer reports the token's full scope. Returns
// ErrUnauthorizedClient when c lacks the refresh_token grant,
// ErrInvalidRequest without a token, ErrInvalidScope, ErrInvalidGrant for an
// unknown, expired, reused (the family is then revoked, SEC-17) or foreign
// token, or one bound to another DPoP key than jkt's (the thumbprint of
// the request's proof, "" for none); other errors wrap
// storage.ErrUnavailable. The new access token is bound to jkt, and so is
// a public client's refresh token (SPEC §11).
func (f *CodeFlow) RefreshGrant(ctx context.Context, c storage.Client, refreshToken, scope, jkt string) (CodeTokens, error) {
	if !slices.Contains(c.GrantTypes, GrantRefreshToken) {
		return CodeTokens{}, ErrUnauthorizedClient
	}
	if refreshToken == "" {
		return CodeTokens{}, InvalidRequest("refresh_token is required")
	}
	pair, err := f.accounts.RefreshWith(ctx, refreshToken, c.ID, clientAudience(c), scope, Binding{JKT: jkt, Refresh: c.Public})
	if errors.Is(err, ErrUnauthenticated) {
		return CodeTokens{}, invalidGrant("The refresh token is invalid, expired, reused or was issued to another client")
	}
	if err != nil {
		return CodeTokens{}, err
	}
	return CodeTokens{TokenPair: pair, Scope: pair.Claims.Scope}, nil
}

func splitScope(s string) []string { return strings.Fields(s) }

// S256Challenge returns the PKCE S256 challenge of verifier (RFC 7636
// §4.2), for clients and tests.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
