package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"user-registry/storage"
)

// private_key_jwt (RFC 7523 §2.2, OIDC Core §9; SPEC §11, SEC-60).
const (
	AuthPrivateKeyJWT   = "private_key_jwt"
	ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// MaxAssertionAhead is how far in the future an assertion's exp may
	// lie: a stolen assertion is good for at most this long, and its jti
	// is remembered for no longer.
	MaxAssertionAhead = 5 * time.Minute
	// assertionSkew tolerates clocks a little apart for exp, nbf and iat
	// in the future. An exp in the past is never tolerated: the jti is
	// remembered until exp only.
	assertionSkew = 30 * time.Second
	maxJTILen     = 256
	// maxInlineSets bounds the parsed-key cache of inline JWKS.
	maxInlineSets = 10000
)

// assertions verifies client assertions for ClientAuth.
type assertions struct {
	clients *Clients
	nonces  storage.NonceStore
	fetch   *Fetcher
	issuer  string
	now     func() time.Time
	log     *slog.Logger

	mu     sync.Mutex
	inline map[string]inlineSet // client id → its parsed inline JWKS
}

// inlineSet is a client's JWKS as stored (to notice a change) and parsed.
type inlineSet struct {
	raw  string
	keys []publicKey
}

// assertionRefused is a client assertion that fails a rule: the reason is
// logged, the caller only learns invalid_client.
type assertionRefused struct{ reason string }

func (e assertionRefused) Error() string { return "client assertion refused: " + e.reason }

func refuse(format string, args ...any) error {
	return assertionRefused{fmt.Sprintf(format, args...)}
}

// authenticate checks cr.Assertion and returns the client it authenticates.
// Every refusal is ErrBadClient, logged with its reason; a store that does
// not answer gives an error wrapping storage.ErrUnavailable.
func (a *assertions) authenticate(ctx context.Context, cr ClientCredentials) (storage.Client, error) {
	c, err := a.check(ctx, cr)
	var r assertionRefused
	if errors.As(err, &r) {
		a.log.InfoContext(ctx, "client assertion refused", "client_id", cr.ID, "reason", r.reason)
		return storage.Client{}, ErrBadClient
	}
	return c, err
}

func (a *assertions) check(ctx context.Context, cr ClientCredentials) (storage.Client, error) {
	if a.nonces == nil {
		return storage.Client{}, refuse("no replay store configured")
	}
	j, err := parseOutsideJWT(cr.Assertion)
	if err != nil {
		return storage.Client{}, refuse("%v", err)
	}
	cl, err := decodeOutsideClaims(j.payload)
	if err != nil {
		return storage.Client{}, refuse("%v", err)
	}
	if cl.Iss == "" || cl.Iss != cl.Sub {
		return storage.Client{}, refuse("iss and sub must both be the client id")
	}
	if cr.ID != "" && cr.ID != cl.Sub {
		return storage.Client{}, refuse("client_id differs from the assertion's sub")
	}
	// The claims are checked before the signature only because it is
	// cheaper; nothing is recorded until the signature holds.
	now := a.now()
	if err := a.checkClaims(cl, cr.Endpoint, now); err != nil {
		return storage.Client{}, err
	}
	c, err := a.clients.Lookup(ctx, cl.Sub)
	if errors.Is(err, ErrBadClient) {
		return storage.Client{}, refuse("unknown client")
	}
	if err != nil {
		return storage.Client{}, err
	}
	keys, err := a.keysOf(ctx, c, j)
	if err != nil {
		return storage.Client{}, err
	}
	if err := j.verify(j.candidates(keys)); err != nil {
		return storage.Client{}, refuse("%v", err)
	}
	first, err := a.nonces.UseOnce(ctx, "assert:"+c.ID+":"+cl.Jti, cl.Exp.time())
	if err != nil {
		return storage.Client{}, fmt.Errorf("client assertion jti: %w", err)
	}
	if !first {
		return storage.Client{}, refuse("jti replayed")
	}
	return c, nil
}

// checkClaims applies SPEC §11's claim rules at now.
func (a *assertions) checkClaims(cl outsideClaims, endpoint string, now time.Time) error {
	base := strings.TrimSuffix(a.issuer, "/")
	switch {
	case !cl.Aud.hasAny(a.issuer, base+endpoint):
		return refuse("aud names neither the issuer nor the endpoint")
	case cl.Exp == nil:
		return refuse("no exp")
	case !now.Before(cl.Exp.time()):
		return refuse("expired")
	case cl.Exp.time().After(now.Add(MaxAssertionAhead + assertionSkew)):
		return refuse("exp more than %v ahead", MaxAssertionAhead)
	case cl.Nbf != nil && cl.Nbf.time().After(now.Add(assertionSkew)):
		return refuse("not yet valid")
	case cl.Iat != nil && cl.Iat.time().After(now.Add(assertionSkew)):
		return refuse("issued in the future")
	case cl.Jti == "" || len(cl.Jti) > maxJTILen:
		return refuse("jti missing or longer than %d", maxJTILen)
	}
	return nil
}

// keysOf returns c's registered keys: its inline set (parsed once per
// change), or the set at its JWKS URI, fetched again once when the
// assertion's kid is not in it (a rotated key set), at most once a minute.
func (a *assertions) keysOf(ctx context.Context, c storage.Client, j outsideJWT) ([]publicKey, error) {
	switch {
	case len(c.JWKS) > 0:
		return a.inlineKeys(c)
	case c.JWKSURI != "":
		if a.fetch == nil {
			return nil, refuse("no fetcher for the JWKS URI")
		}
		keys, err := a.fetch.KeySet(ctx, c.JWKSURI, false)
		if err == nil && !j.hasKid(keys) {
			keys, err = a.fetch.KeySet(ctx, c.JWKSURI, true)
		}
		if err != nil {
			return nil, refuse("%v", err)
		}
		return keys, nil
	}
	return nil, refuse("the client has no registered keys")
}

func (a *assertions) inlineKeys(c storage.Client) ([]publicKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.inline[c.ID]; ok && e.raw == string(c.JWKS) {
		return e.keys, nil
	}
	keys, err := parseKeySet(c.JWKS)
	if err != nil {
		return nil, refuse("stored JWKS: %v", err)
	}
	if len(a.inline) >= maxInlineSets {
		clear(a.inline)
	}
	a.inline[c.ID] = inlineSet{raw: string(c.JWKS), keys: keys}
	return keys, nil
}
