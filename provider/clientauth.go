package provider

import (
	"context"
	"errors"
	"log/slog"
	"time"

	goserver "github.com/go-oauth2/oauth2/v4/server"

	"user-registry/storage"
)

// Client authentication methods (RFC 7591 token_endpoint_auth_method
// values). A new method is one more constant and one more case in
// ClientAuth.Authenticate: private_key_jwt (AuthPrivateKeyJWT) is defined
// with its verifier in clientassert.go.
const (
	AuthSecretBasic = "client_secret_basic" // RFC 6749 §2.3.1, Authorization: Basic
	AuthSecretPost  = "client_secret_post"  // RFC 6749 §2.3.1, client_secret in the body
	AuthNone        = "none"                // a public client naming itself by client_id
)

// ClientCredentials is what a request presented to authenticate its client,
// as the web layer extracted it from the Authorization header or the body.
// Method says how: AuthSecretBasic or AuthSecretPost with a Secret, or
// AuthNone (ID only; a Basic header with an empty password is AuthNone too,
// as clients such as golang.org/x/oauth2 send it for public clients), or
// AuthPrivateKeyJWT with an Assertion (ID optional: the assertion's sub
// names the client). Endpoint is the path of the endpoint called
// ("/oauth2/token"): an assertion's aud may name its URL.
type ClientCredentials struct {
	ID        string
	Secret    string
	Method    string
	Assertion string
	Endpoint  string
}

// ClientUse is what a client authenticates for. It decides whether a
// public client (method none, no credentials) is accepted.
type ClientUse int

const (
	// UseClientCredentials: the client_credentials grant (/oauth2/token,
	// /authority-token). Confidential clients only.
	UseClientCredentials ClientUse = iota
	// UseCodeGrant: the authorization_code and refresh_token grants. Public
	// clients too: PKCE and the binding of refresh tokens protect them
	// (RFC 6749 §2.3, RFC 7636).
	UseCodeGrant
	// UseRevoke: /oauth2/revoke. Public clients too (RFC 7009 §2.1).
	UseRevoke
	// UseIntrospect: /oauth2/introspect. Confidential clients only: a public
	// client has nothing to protect the endpoint with (RFC 7662 §2.1).
	UseIntrospect
	// UsePushedAuthorization: /oauth2/par (RFC 9126 §2). Public clients
	// too, by client_id, as at the token endpoint for their code grant.
	UsePushedAuthorization
)

// publicAllowed reports whether a public client may authenticate with
// method none for u.
func (u ClientUse) publicAllowed() bool {
	return u == UseCodeGrant || u == UseRevoke || u == UsePushedAuthorization
}

// ClientAuthDeps are the dependencies of ClientAuth.
type ClientAuthDeps struct {
	// Clients holds the client records (cached) and checks secrets.
	// Required.
	Clients *Clients
	// Limit is the per-client rate limit (--limit-client), counted once per
	// authenticated request under "client:"+ID. nil: no limit.
	Limit *RateLimiter
	// Audit records refusals by Limit (rate_limited); nil records nothing.
	Audit Auditor

	// private_key_jwt (clientassert.go). Without Nonces every assertion is
	// refused: a jti could not be held to one use.
	Issuer  string             // our issuer: an assertion's aud
	Nonces  storage.NonceStore // jti replay, shared by every node
	Fetcher *Fetcher           // --jwks-uri key sets; nil: a default Fetcher
	Now     func() time.Time   // nil → time.Now
	Log     *slog.Logger       // refusal reasons; nil: discarded

	// DPoP verifies DPoP proofs on the token endpoints (dpop_bind.go).
	// nil: every proof is refused, and so are clients that require one.
	DPoP *DPoP
}

// ClientAuth authenticates the calling client of every request that needs
// one: every grant of /oauth2/token, /authority-token, /oauth2/revoke,
// /oauth2/introspect and /oauth2/par. It is the only place client
// credentials are checked, and the only place the per-client rate limit is
// applied. It also runs the client_credentials grant (authority tokens)
// through go-oauth2, after authenticating (clientauth_goauth2.go). Safe for
// concurrent use.
type ClientAuth struct {
	clients    *Clients
	limit      *RateLimiter
	audit      Auditor
	grants     *goserver.Server // the client_credentials grant (clientauth_goauth2.go)
	assertions *assertions      // private_key_jwt (clientassert.go)
	dpop       *DPoP
}

// NewClientAuth returns the client-authentication service. Returns an
// error when d.Clients is nil.
func NewClientAuth(d ClientAuthDeps) (*ClientAuth, error) {
	if d.Clients == nil {
		return nil, errors.New("provider: client authentication needs Clients")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Fetcher == nil {
		d.Fetcher = NewFetcher(FetcherDeps{Now: d.Now})
	}
	return &ClientAuth{clients: d.Clients, limit: d.Limit, audit: auditorOr(d.Audit), grants: newGrantServer(d.Clients),
		assertions: &assertions{clients: d.Clients, nonces: d.Nonces, fetch: d.Fetcher, issuer: d.Issuer,
			now: d.Now, log: d.Log, inline: map[string]inlineSet{}}, dpop: d.DPoP}, nil
}

// Authenticate identifies the client that sent cr, for use:
//   - client_secret_basic and client_secret_post: the client's secret is
//     checked; unknown ids, wrong secrets and public clients (which have no
//     secret) fail after the same keyed-hash work, so neither the answer nor
//     its timing tells them apart;
//   - private_key_jwt: the assertion is checked by the rules of SPEC §11
//     (clientassert.go) against the client's registered keys only;
//   - none: accepted for a public client where use allows one; a
//     confidential client that sends no secret fails, and so does every
//     client where use does not allow public ones (after the same hash work
//     as a wrong secret, so the timing does not tell public clients from
//     confidential ones).
//
// An authenticated client then counts one hit against its rate limit:
// counting after authentication keeps anyone from using up a client's
// allowance with its (public) id and no secret.
//
// Returns ErrBadClient (invalid_client) for every failed authentication, a
// *RateLimitError (ErrRateLimited) over the limit, or a store error
// (storage.ErrUnavailable). The returned record shares its slices with the
// client cache: read it, never modify.
func (a *ClientAuth) Authenticate(ctx context.Context, cr ClientCredentials, use ClientUse) (storage.Client, error) {
	c, err := a.verify(ctx, cr, use)
	if err != nil {
		return storage.Client{}, err
	}
	if _, err := a.limit.Allow(ctx, "client:"+c.ID); err != nil {
		if errors.Is(err, ErrRateLimited) {
			a.audit.Record(ctx, AuditEvent{Event: EventRateLimited, ClientID: c.ID, Domain: c.Domain, Detail: limitClient})
		}
		return storage.Client{}, err
	}
	return c, nil
}

// verify checks cr by its method (see Authenticate).
func (a *ClientAuth) verify(ctx context.Context, cr ClientCredentials, use ClientUse) (storage.Client, error) {
	if cr.Method == AuthPrivateKeyJWT {
		return a.assertions.authenticate(ctx, cr)
	}
	if cr.ID == "" {
		return storage.Client{}, ErrBadClient
	}
	switch cr.Method {
	case AuthSecretBasic, AuthSecretPost:
		return a.clients.authenticate(ctx, cr.ID, cr.Secret)
	case AuthNone:
		if cr.Secret != "" || !use.publicAllowed() {
			return a.clients.authenticate(ctx, cr.ID, "")
		}
		c, err := a.clients.Lookup(ctx, cr.ID)
		if err != nil {
			return storage.Client{}, err
		}
		if !c.Public {
			return storage.Client{}, ErrBadClient
		}
		return c, nil
	default:
		return storage.Client{}, ErrBadClient
	}
}
