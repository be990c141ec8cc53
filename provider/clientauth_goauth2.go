package provider

import (
	"context"
	"errors"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oauth2errors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	goserver "github.com/go-oauth2/oauth2/v4/server"

	"user-registry/storage"
)

// The client_credentials grant runs through go-oauth2's Server and Manager,
// which do the grant dispatch (only the grants listed are allowed, SEC-22)
// and keep the token model. Client authentication is not theirs: ClientAuth
// authenticates first, and go-oauth2 only ever sees that already
// authenticated client. Three adapters of ours are plugged in:
//
//   - authorityClientStore hands go-oauth2 the authenticated client of the
//     request (authorityGrant), never a client it would have to check;
//   - authorityGenerator mints our JWT (Clients.IssueAuthority) instead of
//     go-oauth2's, and copies its scope and lifetime into go-oauth2's token
//     info, from which ClientCredentialsGrant builds the answer;
//   - noTokenStore stores nothing: authority tokens are stateless (SPEC §5).
//
// Kept out of go-oauth2 (shared notes, token-endpoint-performance.md):
// HandleTokenRequest and its request parsing (it reads the query string,
// does not form-decode Basic credentials, and answers 401 for codes RFC 6749
// §5.2 wants as 400), and ClientAuthorizedHandler/ClientScopeHandler, which
// run before the secret is checked and would tell anonymous callers that a
// domain is blocked or which scopes a client has.

// AuthorityRequest is a client_credentials request past its client
// credentials (SPEC §5).
type AuthorityRequest struct {
	Scope    string   // space-separated; empty means every registered scope
	Domain   string   // optional; must be the client's own (SEC-21)
	Audience []string // audience and resource (RFC 8707) values
	// Proof is the request's DPoP proof, if any (SPEC §11): a valid one
	// binds the token to its key.
	Proof DPoPProof
}

// AuthorityToken is an issued authority token and what the token response
// says about it.
type AuthorityToken struct {
	AccessToken string
	Scope       string
	Domain      string
	ExpiresIn   time.Duration
	TokenType   string // TokenTypeBearer, or TokenTypeDPoP for a bound token
}

// ClientCredentialsGrant runs the client_credentials grant: it authenticates cr
// (Authenticate, UseClientCredentials, which also counts the rate limit),
// checks the requested domain, then lets go-oauth2 dispatch the grant to
// our generator, which checks grant type, blocked domain, scope and
// audience (Clients.IssueAuthority) and mints the token.
//
// Returns the errors of Authenticate, RequireDomain and IssueAuthority.
func (a *ClientAuth) ClientCredentialsGrant(ctx context.Context, cr ClientCredentials, req AuthorityRequest) (AuthorityToken, error) {
	c, err := a.Authenticate(ctx, cr, UseClientCredentials)
	if err != nil {
		return AuthorityToken{}, err
	}
	if err := RequireDomain(c, req.Domain); err != nil {
		return AuthorityToken{}, err
	}
	jkt, err := a.Bind(ctx, c, req.Proof)
	if err != nil {
		return AuthorityToken{}, err
	}
	g := &authorityGrant{c: c, audience: req.Audience, jkt: jkt}
	ti, err := a.grants.GetAccessToken(context.WithValue(ctx, authorityGrantKey{}, g), oauth2.ClientCredentials,
		&oauth2.TokenGenerateRequest{ClientID: c.ID, Scope: req.Scope})
	if err != nil {
		return AuthorityToken{}, err
	}
	return AuthorityToken{AccessToken: ti.GetAccess(), Scope: ti.GetScope(), Domain: c.Domain,
		ExpiresIn: ti.GetAccessExpiresIn(), TokenType: tokenTypeFor(jkt)}, nil
}

// newGrantServer returns the go-oauth2 server for the client_credentials
// grant.
func newGrantServer(clients *Clients) *goserver.Server {
	m := manage.NewManager()
	m.MapClientStorage(authorityClientStore{})
	m.MapTokenStorage(noTokenStore{})
	m.MapAccessGenerate(authorityGenerator{clients})
	return goserver.NewServer(&goserver.Config{
		TokenType: "Bearer",
		// Only the grant go-oauth2 dispatches here (SEC-22). The
		// authorization_code and refresh_token grants are CodeFlow's: their
		// state (hashed single-use codes, refresh families with reuse
		// detection) is not go-oauth2's token model.
		AllowedGrantTypes: []oauth2.GrantType{oauth2.ClientCredentials},
	}, m)
}

// authorityGrant is one client_credentials request on its way through
// go-oauth2: the client ClientAuth authenticated and the requested
// audiences, which go-oauth2's generator interface has no field for. It is
// the only value passed through the context, read-only, and it is what
// go-oauth2 sees as the client (oauth2.ClientInfo).
type authorityGrant struct {
	c        storage.Client
	audience []string
	jkt      string // DPoP binding of the token; "" for none
}

type authorityGrantKey struct{}

func (g *authorityGrant) GetID() string     { return g.c.ID }
func (g *authorityGrant) GetSecret() string { return "" } // secrets are not kept
func (g *authorityGrant) GetDomain() string { return "" } // redirect-URI base; unused here
func (g *authorityGrant) IsPublic() bool    { return g.c.Public }
func (g *authorityGrant) GetUserID() string { return "" }

// VerifyPassword is go-oauth2's secret check. The client was authenticated
// by ClientAuth before go-oauth2 was called (ClientCredentialsGrant), by whichever
// method it used, and go-oauth2 is given no secret to compare.
func (g *authorityGrant) VerifyPassword(string) bool { return true }

// authorityClientStore is go-oauth2's ClientStore: it returns the
// authenticated client of the request, and no other. Outside
// ClientAuth.ClientCredentialsGrant there is none, and every id is unknown.
type authorityClientStore struct{}

func (authorityClientStore) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	g, ok := ctx.Value(authorityGrantKey{}).(*authorityGrant)
	if !ok || g.c.ID != id {
		return nil, ErrBadClient
	}
	return g, nil
}

// authorityGenerator is go-oauth2's AccessGenerate: it mints the authority
// token and writes the granted scope and the token's real lifetime into
// go-oauth2's token info (the JWT's exp is what counts).
type authorityGenerator struct{ clients *Clients }

func (gen authorityGenerator) Token(ctx context.Context, data *oauth2.GenerateBasic, _ bool) (string, string, error) {
	g, ok := data.Client.(*authorityGrant)
	if !ok {
		return "", "", errors.New("provider: authority generator called without an authenticated client")
	}
	tok, claims, err := gen.clients.issueAuthority(ctx, g.c, data.TokenInfo.GetScope(), g.audience, g.jkt)
	if err != nil {
		return "", "", err
	}
	ti := data.TokenInfo
	ti.SetScope(claims.Scope)
	ti.SetAccessCreateAt(claims.IssuedAt)
	ti.SetAccessExpiresIn(claims.ExpiresAt.Sub(claims.IssuedAt))
	return tok, "", nil
}

// noTokenStore keeps nothing: authority tokens are stateless JWTs (no write
// per token, SPEC §5) and are revoked by jti in the revocation store.
type noTokenStore struct{}

func (noTokenStore) Create(context.Context, oauth2.TokenInfo) error { return nil }
func (noTokenStore) RemoveByCode(context.Context, string) error     { return nil }
func (noTokenStore) RemoveByAccess(context.Context, string) error   { return nil }
func (noTokenStore) RemoveByRefresh(context.Context, string) error  { return nil }
func (noTokenStore) GetByCode(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, oauth2errors.ErrInvalidAuthorizeCode
}
func (noTokenStore) GetByAccess(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, oauth2errors.ErrInvalidAccessToken
}
func (noTokenStore) GetByRefresh(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, oauth2errors.ErrInvalidRefreshToken
}
