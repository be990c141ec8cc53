package web

import (
	"context"
	"errors"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oauth2errors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	goserver "github.com/go-oauth2/oauth2/v4/server"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
)

// The token endpoint uses go-oauth2's Server and Manager for what they do
// well — the grant dispatch, fetching the client, checking its secret and
// refusing public clients on client_credentials, the token model — with
// three adapters of ours plugged in:
//
//   - goClientStore serves clients from provider.Clients (an in-memory
//     cache, HMAC-checked secrets), so the hot path reads no database;
//   - authorityGenerator mints our JWT (keys.Tokens) instead of go-oauth2's,
//     and runs the checks that must come after authentication;
//   - noTokenStore stores nothing: authority tokens are stateless (SPEC §5).
//
// What we keep out of go-oauth2: HandleTokenRequest and its request
// parsing (it reads the query string, does not form-decode Basic
// credentials, and answers 401 for codes RFC 6749 §5.2 wants as 400), and
// ClientAuthorizedHandler/ClientScopeHandler, which run before the secret
// is checked and would tell anonymous callers that a domain is blocked or
// which scopes a client has.

// newGoOAuth2 builds the go-oauth2 server for the grants enabled here.
func newGoOAuth2(clients *provider.Clients, gen *authorityGenerator, ttl time.Duration) *goserver.Server {
	m := manage.NewManager()
	m.MapClientStorage(goClientStore{clients})
	m.MapTokenStorage(noTokenStore{})
	m.MapAccessGenerate(gen)
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: ttl})
	srv := goserver.NewServer(&goserver.Config{
		TokenType: "Bearer",
		// Only client_credentials goes through go-oauth2 (SEC-22: no other
		// grant is enabled here); authorization_code and refresh_token are
		// served by codeGrants (oauth_grants.go), which keeps their state in
		// provider.CodeFlow.
		AllowedGrantTypes: []oauth2.GrantType{oauth2.ClientCredentials},
	}, m)
	return srv
}

// goClient adapts a storage.Client to go-oauth2. VerifyPassword makes the
// Manager use our keyed-hash comparison instead of comparing GetSecret
// (which has nothing to return: we do not keep secrets).
type goClient struct {
	c       storage.Client
	clients *provider.Clients
}

func (g *goClient) GetID() string                     { return g.c.ID }
func (g *goClient) GetSecret() string                 { return "" }
func (g *goClient) GetDomain() string                 { return "" } // redirect-URI base; unused here
func (g *goClient) IsPublic() bool                    { return g.c.Public }
func (g *goClient) GetUserID() string                 { return "" }
func (g *goClient) VerifyPassword(secret string) bool { return g.clients.VerifySecret(g.c, secret) }

// unknownClient stands for an id no client has. Answering it with a client
// whose secret never matches (after the same HMAC work) rather than with an
// error gives unknown ids and wrong secrets one code path and one timing.
type unknownClient struct{ clients *provider.Clients }

func (u unknownClient) GetID() string     { return "" }
func (u unknownClient) GetSecret() string { return "" }
func (u unknownClient) GetDomain() string { return "" }
func (u unknownClient) IsPublic() bool    { return false }
func (u unknownClient) GetUserID() string { return "" }
func (u unknownClient) VerifyPassword(secret string) bool {
	// A public record makes VerifySecret hash against its dummy and fail.
	return u.clients.VerifySecret(storage.Client{Public: true}, secret)
}

// goClientStore is go-oauth2's ClientStore over provider.Clients.
type goClientStore struct{ clients *provider.Clients }

func (s goClientStore) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	c, err := s.clients.Lookup(ctx, id)
	if errors.Is(err, provider.ErrBadClient) {
		return unknownClient(s), nil
	}
	if err != nil {
		return nil, err
	}
	return &goClient{c: c, clients: s.clients}, nil
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

// issueSlot carries our request parameters into the generator and the
// minted claims back out, through the context go-oauth2 passes along.
type issueSlot struct {
	req    *tokenRequest
	claims keys.AccessClaims
}

type issueSlotKey struct{}

// authorityGenerator is go-oauth2's AccessGenerate. go-oauth2 calls it
// only after the client authenticated, which is where the checks that
// reveal something about the client belong: the requested domain, the
// per-client rate limit, then (in provider) grant, blocked domain, scope and
// audience.
type authorityGenerator struct {
	clients *provider.Clients
	limit   *provider.RateLimiter
}

func (g *authorityGenerator) Token(ctx context.Context, data *oauth2.GenerateBasic, _ bool) (string, string, error) {
	slot, _ := ctx.Value(issueSlotKey{}).(*issueSlot)
	gc, ok := data.Client.(*goClient)
	if slot == nil || !ok {
		return "", "", errors.New("oauth: generator called outside the token endpoint")
	}
	c := gc.c
	if err := provider.RequireDomain(c, slot.req.domain); err != nil {
		return "", "", err
	}
	// Counted after authentication, so nobody can use up a client's
	// allowance by sending requests with its (public) id and no secret.
	if _, err := g.limit.Allow(ctx, "client:"+c.ID); err != nil {
		return "", "", err
	}
	tok, claims, err := g.clients.IssueAuthority(ctx, c, data.TokenInfo.GetScope(), slot.req.audience)
	if err != nil {
		return "", "", err
	}
	slot.claims = claims
	return tok, "", nil
}
