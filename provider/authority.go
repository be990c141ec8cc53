package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"user-registry/keys"
	"user-registry/storage"
)

// IssueAuthority mints an authority token (SPEC §5) for c, an authenticated
// client: a stateless at+jwt with sub = client_id = c.ID, the client's
// domain, the granted scope and aud = the requested audiences (each must be
// registered), or the issuer when none is requested. No store is written.
//
// scope is the space-separated request; empty means every registered scope.
// Admin clients always get registry:admin.
//
// Call it only after the client's secret was verified: its answers
// (unauthorized_client for a blocked domain) say things about the client
// that an unauthenticated caller must not learn.
//
// Returns ErrUnauthorizedClient when c may not use client_credentials or its
// domain is blocked now, ErrInvalidScope, ErrInvalidTarget, or a store or
// signing error (wrapped).
func (s *Clients) IssueAuthority(ctx context.Context, c storage.Client, scope string, audience []string) (string, keys.AccessClaims, error) {
	return s.issueAuthority(ctx, c, scope, audience, "")
}

// issueAuthority is IssueAuthority for a token bound to the DPoP key with
// thumbprint jkt ("" = unbound).
func (s *Clients) issueAuthority(ctx context.Context, c storage.Client, scope string, audience []string, jkt string) (string, keys.AccessClaims, error) {
	if c.Public || !slices.Contains(c.GrantTypes, GrantClientCredentials) {
		return "", keys.AccessClaims{}, clientErrorf(ErrUnauthorizedClient, "The client is not registered for client_credentials")
	}
	// The policy is cached for at most 5 s, so a block through the CLI or the
	// admin API on any node stops issuance within SPEC §1's bound.
	blocked, err := s.policy.Blocked(ctx, c.Domain)
	if err != nil {
		return "", keys.AccessClaims{}, err
	}
	if blocked {
		return "", keys.AccessClaims{}, clientErrorf(ErrUnauthorizedClient, "The client's domain is not allowed")
	}
	granted, err := grantScopes(c, scope)
	if err != nil {
		return "", keys.AccessClaims{}, err
	}
	for _, a := range audience {
		if !slices.Contains(c.Audiences, a) {
			return "", keys.AccessClaims{}, ErrInvalidTarget
		}
	}
	tok, claims, err := s.tokens.MintAccess(ctx, keys.AccessClaims{
		Subject: c.ID, ClientID: c.ID, Audience: audience, Scope: granted, Domain: c.Domain, JKT: jkt,
	})
	if err != nil {
		return "", keys.AccessClaims{}, fmt.Errorf("mint authority token: %w", err)
	}
	return tok, claims, nil
}

// grantScopes returns the scope string to put in the token: the requested
// scopes (RFC 6749 §3.3, space-separated) if all are registered, every
// registered scope when none is requested, and registry:admin for admin
// clients in any case.
func grantScopes(c storage.Client, requested string) (string, error) {
	requested = strings.TrimSpace(requested)
	if requested == "" {
		if c.Admin && !slices.Contains(c.Scopes, ScopeAdmin) {
			return strings.Join(append(slices.Clip(c.Scopes), ScopeAdmin), " "), nil
		}
		return strings.Join(c.Scopes, " "), nil
	}
	var out []string
	for sc := range strings.SplitSeq(requested, " ") {
		if sc == "" || slices.Contains(out, sc) {
			continue
		}
		if !validScopeToken(sc) {
			return "", clientErrorf(ErrInvalidScope, "The requested scope is malformed")
		}
		if !slices.Contains(c.Scopes, sc) {
			return "", ErrInvalidScope
		}
		out = append(out, sc)
	}
	if c.Admin && !slices.Contains(out, ScopeAdmin) {
		out = append(out, ScopeAdmin)
	}
	return strings.Join(out, " "), nil
}

// RequireDomain checks the optional `domain` parameter of a token request:
// a client obtains tokens for its own registered domain only (SEC-21).
// Returns ErrUnauthorizedClient (400) for another or a malformed domain.
func RequireDomain(c storage.Client, requested string) error {
	if requested == "" {
		return nil
	}
	d, err := NormalizeDomain(requested)
	if err != nil || d != c.Domain {
		return clientErrorf(ErrUnauthorizedClient, "A client obtains tokens for its own domain only")
	}
	return nil
}
