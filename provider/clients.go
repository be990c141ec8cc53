package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"user-registry/keys"
	"user-registry/storage"
)

// Grant types a client may register (SEC-22: no password, no implicit).
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// ScopeAdmin is the scope of admin clients; the admin API requires it.
const ScopeAdmin = "registry:admin"

// ClientCacheTTL bounds how long a client record read from the store is
// trusted. SPEC §1 promises that CLI changes and changes made on another node
// are honoured within 5 s; a little less leaves room for the request itself.
const ClientCacheTTL = 4 * time.Second

// maxCachedClients bounds the cache, which also remembers unknown ids (so a
// flood of made-up ids does not reach the database) and must therefore not
// grow without limit.
const maxCachedClients = 10000

// authorityMinter is what Clients needs of keys.Tokens.
type authorityMinter interface {
	MintAccess(ctx context.Context, c keys.AccessClaims) (string, keys.AccessClaims, error)
}

// Clients registers OAuth2 clients, authenticates them and issues authority
// tokens (SPEC §5). Safe for concurrent use.
type Clients struct {
	store  storage.ClientStore
	users  userReader
	policy *DomainPolicy
	tokens authorityMinter
	hasher *secretHasher
	now    func() time.Time
	audit  Auditor

	mu    sync.RWMutex
	cache map[string]cachedClient
}

// cachedClient is a store answer: a client, or storage.ErrNotFound.
type cachedClient struct {
	c   storage.Client
	err error
	at  time.Time
}

// NewClients returns the client service. hmacKey keys the hash of client
// secrets; every node (and the CLI) must use the same key. users and
// policy are needed to register clients for users (RegisterForUser), policy
// and tokens to issue authority tokens; the CLI, which does neither, passes
// nil. now may be nil (time.Now).
func NewClients(store storage.ClientStore, users userReader, policy *DomainPolicy, tokens authorityMinter, hmacKey []byte, now func() time.Time) *Clients {
	if now == nil {
		now = time.Now
	}
	return &Clients{
		store: store, users: users, policy: policy, tokens: tokens, now: now,
		hasher: newSecretHasher(hmacKey),
		cache:  make(map[string]cachedClient),
		audit:  NopAuditor{},
	}
}

// SetAuditor makes s record client_created and client_deleted with a (nil:
// nothing). Call it while wiring, before s is used.
func (s *Clients) SetAuditor(a Auditor) { s.audit = auditorOr(a) }

// ClientSpec describes a client to register.
type ClientSpec struct {
	Domain       string
	Name         string
	Scopes       []string
	GrantTypes   []string // empty: client_credentials (authorization_code for public clients)
	RedirectURIs []string
	Audiences    []string
	Public       bool
	Admin        bool // adds scope registry:admin
	// DomainAdmin adds scope domain:admin: the client administers the
	// users of its own domain (SPEC §13).
	DomainAdmin bool
	Trusted     bool // skips the consent page
	// A private_key_jwt client (SPEC §11) gives JWKS (a JWK Set of public
	// keys, JSON) or JWKSURI (fetched under the rules of fetch.go), not
	// both, and gets no secret.
	JWKS    []byte
	JWKSURI string
	DPoP    bool // every token request must carry a DPoP proof (SPEC §11)
	// RequirePAR refuses the client's authorization requests unless they
	// were pushed first (RFC 9126 §5, SPEC §12). Needs authorization_code.
	RequirePAR bool
	// Logout (SPEC §12): where RP-initiated logout may return the
	// browser, and where logout tokens go (see clients_logout.go).
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string
}

// Create registers a client of the operators (the CLI, an admin) and
// returns it with its secret, which is not stored (only its keyed hash) and
// so can be shown only this once. A public client gets no secret ("").
// Returns an error wrapping ErrInvalidInput for a bad spec.
// The creation is audited (client_created) with the context's actor.
func (s *Clients) Create(ctx context.Context, spec ClientSpec) (storage.Client, string, error) {
	return s.create(ctx, spec, "")
}

// create is Create for a client registered by the user createdBy ("" for
// the operators).
func (s *Clients) create(ctx context.Context, spec ClientSpec, createdBy string) (storage.Client, string, error) {
	c, err := s.validate(spec)
	if err != nil {
		return storage.Client{}, "", err
	}
	c.CreatedBy = createdBy
	c.CreatedAt = s.now().UTC().Truncate(time.Second)
	var secret string
	if !c.Public && len(c.JWKS) == 0 && c.JWKSURI == "" {
		secret = newSecret()
		c.SecretHash = s.hasher.sum(secret)
	}
	// 128 random bits do not collide in practice; the retry only keeps a
	// freak collision from becoming an error.
	for range 3 {
		c.ID = newClientID()
		err = s.store.CreateClient(ctx, &c)
		if !errors.Is(err, storage.ErrExists) {
			break
		}
	}
	if err != nil {
		return storage.Client{}, "", fmt.Errorf("create client: %w", err)
	}
	s.forget(c.ID)
	s.audit.Record(ctx, clientEvent(ctx, EventClientCreated, c))
	return c, secret, nil
}

// clientEvent is the audit event of a change to client c: by its creator
// (a user, through /clients) or by whoever the context names (the CLI, an
// admin client).
func clientEvent(ctx context.Context, event string, c storage.Client) AuditEvent {
	e := AuditEvent{Event: event, ClientID: c.ID, Domain: c.Domain, UserID: c.CreatedBy, Actor: RequestInfoFrom(ctx).Actor}
	if e.Actor == "" && c.CreatedBy != "" {
		e.Actor = ActorUser
	}
	return e
}

// validate checks spec and returns the record to store (without ID, hash
// and time).
func (s *Clients) validate(spec ClientSpec) (storage.Client, error) {
	domain, err := NormalizeDomain(spec.Domain)
	if err != nil {
		return storage.Client{}, err
	}
	name := strings.TrimSpace(spec.Name)
	if utf8.RuneCountInString(name) > 200 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return storage.Client{}, InvalidInput("Client name: at most 200 printable characters")
	}
	c := storage.Client{Domain: domain, Name: name, Public: spec.Public, Admin: spec.Admin, Trusted: spec.Trusted,
		DPoP: spec.DPoP, RequirePAR: spec.RequirePAR}
	if err := validateClientKeys(spec, &c); err != nil {
		return storage.Client{}, err
	}
	if err := validateLogoutURIs(spec, &c); err != nil {
		return storage.Client{}, err
	}

	c.GrantTypes = dedupe(spec.GrantTypes)
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantClientCredentials}
		if spec.Public {
			c.GrantTypes = []string{GrantAuthorizationCode}
		}
	}
	for _, g := range c.GrantTypes {
		switch g {
		case GrantClientCredentials, GrantAuthorizationCode, GrantRefreshToken, GrantDeviceCode:
		default:
			return storage.Client{}, InvalidInput(fmt.Sprintf("Unsupported grant type %q (client_credentials, authorization_code, refresh_token or %s)", g, GrantDeviceCode))
		}
	}
	hasCode := slices.Contains(c.GrantTypes, GrantAuthorizationCode)
	if spec.Public && slices.Contains(c.GrantTypes, GrantClientCredentials) {
		return storage.Client{}, InvalidInput("A public client has no secret and cannot use client_credentials")
	}
	// The device grant, like the code grant, yields user tokens that a
	// refresh token may renew.
	if slices.Contains(c.GrantTypes, GrantRefreshToken) && !hasCode && !slices.Contains(c.GrantTypes, GrantDeviceCode) {
		return storage.Client{}, InvalidInput("refresh_token needs authorization_code or " + GrantDeviceCode)
	}
	if spec.RequirePAR && !hasCode {
		return storage.Client{}, InvalidInput("--require-par needs the authorization_code grant")
	}

	// A code-flow client may have no redirect URI yet (SPEC §1 makes
	// --redirect-uri optional); its authorization requests get the error
	// page until one is registered, and the CLI warns about it.
	c.RedirectURIs = dedupe(spec.RedirectURIs)
	for _, u := range c.RedirectURIs {
		if err := validRedirectURI(u); err != nil {
			return storage.Client{}, err
		}
	}

	c.Scopes = dedupe(spec.Scopes)
	for _, sc := range c.Scopes {
		if !validScopeToken(sc) {
			return storage.Client{}, InvalidInput(fmt.Sprintf("Invalid scope %q", sc))
		}
		// The admin scope is granted by the Admin flag only, so that it is
		// never given away by listing it among ordinary scopes.
		if sc == ScopeAdmin && !spec.Admin {
			return storage.Client{}, InvalidInput("Scope registry:admin is reserved to admin clients")
		}
		if sc == ScopeDomainAdmin && !spec.DomainAdmin {
			return storage.Client{}, InvalidInput("Scope domain:admin is reserved to domain admin clients")
		}
	}
	if spec.Admin && !slices.Contains(c.Scopes, ScopeAdmin) {
		c.Scopes = append(c.Scopes, ScopeAdmin)
	}
	if spec.DomainAdmin && !slices.Contains(c.Scopes, ScopeDomainAdmin) {
		c.Scopes = append(c.Scopes, ScopeDomainAdmin)
	}

	c.Audiences = dedupe(spec.Audiences)
	for _, a := range c.Audiences {
		if a == "" || len(a) > 512 || strings.IndexFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return storage.Client{}, InvalidInput(fmt.Sprintf("Invalid audience %q", a))
		}
	}
	return c, nil
}

// validRedirectURI requires an absolute URI without fragment (RFC 6749
// §3.1.2); http(s) URIs need a host. Custom schemes of native apps
// (com.example.app:/cb) are accepted.
func validRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(s, "#") ||
		((u.Scheme == "http" || u.Scheme == "https") && u.Host == "") {
		return InvalidInput(fmt.Sprintf("Invalid redirect URI %q: absolute, without fragment", s))
	}
	return nil
}

// validScopeToken reports whether s is a scope-token of RFC 6749 §3.3:
// one or more of %x21 / %x23-5B / %x5D-7E (no space, quote or backslash).
func validScopeToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// authenticate checks a client's secret for ClientAuth, the one place
// client credentials are checked. Unknown ids, wrong secrets and public
// clients (which have no secret) all return ErrBadClient after the same
// hash computation. A store failure is returned wrapped
// (storage.ErrUnavailable → 503). The returned record shares its slices
// with the cache: read it, never modify.
func (s *Clients) authenticate(ctx context.Context, id, secret string) (storage.Client, error) {
	c, err := s.Lookup(ctx, id)
	if errors.Is(err, ErrBadClient) {
		s.hasher.equal(secret, nil)
		return storage.Client{}, ErrBadClient
	}
	if err != nil {
		return storage.Client{}, err
	}
	if !s.verifySecret(c, secret) {
		return storage.Client{}, ErrBadClient
	}
	return c, nil
}

// verifySecret reports in constant time whether secret is c's secret, or
// its previous secret while the clock is before that one's expiry, and
// not from that instant on (SEC-64; SecretRotation). A public client has
// none, so every secret is wrong for it.
func (s *Clients) verifySecret(c storage.Client, secret string) bool {
	if c.Public {
		s.hasher.equal(secret, nil)
		return false
	}
	var prev []byte
	if len(c.PrevSecretHash) > 0 && s.now().Before(c.PrevSecretExpiresAt) {
		prev = c.PrevSecretHash
	}
	return s.hasher.equalEither(secret, c.SecretHash, prev)
}

// Lookup returns a client from the cache, reading the store when the entry
// is older than ClientCacheTTL. Returns ErrBadClient for an unknown id (this
// is the authentication path), or a store error. The record shares its
// slices with the cache: read it, never modify.
func (s *Clients) Lookup(ctx context.Context, id string) (storage.Client, error) {
	if id == "" || len(id) > 128 {
		return storage.Client{}, ErrBadClient
	}
	now := s.now()
	s.mu.RLock()
	e, ok := s.cache[id]
	s.mu.RUnlock()
	if ok {
		// A clock that went backwards also forces a reload.
		if age := now.Sub(e.at); age >= 0 && age < ClientCacheTTL {
			return e.result()
		}
	}
	c, err := s.store.Client(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.Client{}, fmt.Errorf("client %s: %w", id, err)
	}
	e = cachedClient{c: c, err: err, at: now}
	s.mu.Lock()
	if len(s.cache) >= maxCachedClients {
		s.evictLocked(now)
	}
	s.cache[id] = e
	s.mu.Unlock()
	return e.result()
}

func (e cachedClient) result() (storage.Client, error) {
	if e.err != nil {
		return storage.Client{}, ErrBadClient
	}
	return e.c, nil
}

// evictLocked drops stale entries, or everything if all are fresh (a flood
// of distinct ids): the cache is an optimisation, never the record.
func (s *Clients) evictLocked(now time.Time) {
	for id, e := range s.cache {
		if age := now.Sub(e.at); age < 0 || age >= ClientCacheTTL {
			delete(s.cache, id)
		}
	}
	if len(s.cache) >= maxCachedClients {
		clear(s.cache)
	}
}

// forget drops id from this node's cache after a change made here, so the
// change is visible at once on this node (other nodes within the TTL).
func (s *Clients) forget(id string) {
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
}

// Get returns a client fresh from the store. Returns ErrClientNotFound.
func (s *Clients) Get(ctx context.Context, id string) (storage.Client, error) {
	c, err := s.store.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Client{}, ErrClientNotFound
	}
	if err != nil {
		return storage.Client{}, fmt.Errorf("client %s: %w", id, err)
	}
	return c, nil
}

// List returns the clients of domain (normalized here), or of every domain
// when domain is "". Returns ErrInvalidInput for a malformed domain.
func (s *Clients) List(ctx context.Context, domain string) ([]storage.Client, error) {
	if domain != "" {
		d, err := NormalizeDomain(domain)
		if err != nil {
			return nil, err
		}
		domain = d
	}
	list, err := s.store.ListClients(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return list, nil
}

// Delete removes any client (the operators' path; users go through
// RemoveForUser). Returns ErrClientNotFound, or an error wrapping
// storage.ErrUnavailable.
func (s *Clients) Delete(ctx context.Context, id string) error {
	// Read first, so the audit event names the client's domain and
	// creator.
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.remove(ctx, c)
}

// remove deletes client c (read just before). Returns ErrClientNotFound
// when it went meanwhile.
func (s *Clients) remove(ctx context.Context, c storage.Client) error {
	err := s.store.DeleteClient(ctx, c.ID)
	s.forget(c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrClientNotFound
	}
	if err != nil {
		return fmt.Errorf("delete client %s: %w", c.ID, err)
	}
	s.audit.Record(ctx, clientEvent(ctx, EventClientDeleted, c))
	return nil
}
