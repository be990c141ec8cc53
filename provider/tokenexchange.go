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

// Token exchange (RFC 8693) for workload identity (SPEC §11, SEC-62).
const (
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	// MaxSubjectLifetime bounds exp − iat (or − nbf) of an outside token: a
	// long-lived token is a stored secret by another name.
	MaxSubjectLifetime = time.Hour
	// subjectSkew tolerates clocks a little apart for exp, nbf and iat.
	subjectSkew = 30 * time.Second
	maxSubLen   = 255
)

// ErrExchangeRefused is the one answer to every subject token that fails
// a check (invalid_grant): which check failed goes to the log only.
var ErrExchangeRefused = clientErrorf(ErrInvalidGrant, "The subject token was refused")

// ExchangeRequest is a token-exchange request (RFC 8693 §2.1).
type ExchangeRequest struct {
	SubjectToken       string
	SubjectTokenType   string
	RequestedTokenType string // "" or TokenTypeAccessToken
	ActorToken         string // delegation is not offered: must be ""
	Scope              string // space-separated; "" = every scope of the trust
	Domain             string // picks among trusts of several domains
	Audience           []string
}

// exchangeRefused is a failed check, logged with its reason.
type exchangeRefused struct{ reason string }

func (e exchangeRefused) Error() string { return "token exchange refused: " + e.reason }

func refuseExchange(format string, args ...any) error {
	return exchangeRefused{fmt.Sprintf(format, args...)}
}

// Exchange verifies an outside token against the trusts and issues an
// authority token for the matching trust's domain: sub = the outside sub,
// client_id = the trust's id, scope within the trust's.
//
// Returns ErrInvalidRequest variants for a malformed request,
// ErrInvalidTarget for an audience other than this server,
// ErrExchangeRefused (invalid_grant) for every failed check (logged with
// the check), a *RateLimitError, or a store error.
func (f *Federation) Exchange(ctx context.Context, req ExchangeRequest) (AuthorityToken, error) {
	switch {
	case req.SubjectToken == "":
		return AuthorityToken{}, InvalidRequest("subject_token is required")
	case req.SubjectTokenType != TokenTypeJWT:
		return AuthorityToken{}, InvalidRequest("subject_token_type must be " + TokenTypeJWT)
	case req.RequestedTokenType != "" && req.RequestedTokenType != TokenTypeAccessToken:
		return AuthorityToken{}, InvalidRequest("requested_token_type must be " + TokenTypeAccessToken)
	case req.ActorToken != "":
		return AuthorityToken{}, InvalidRequest("actor_token is not supported")
	}
	for _, a := range req.Audience {
		if a != f.d.Issuer {
			return AuthorityToken{}, ErrInvalidTarget
		}
	}
	t, sub, err := f.verifySubject(ctx, req)
	var r exchangeRefused
	if errors.As(err, &r) {
		f.d.Log.InfoContext(ctx, "token exchange refused", "check", r.reason)
		return AuthorityToken{}, ErrExchangeRefused
	}
	if err != nil {
		return AuthorityToken{}, err
	}
	if _, err := f.d.Limit.Allow(ctx, "client:"+t.ID); err != nil {
		return AuthorityToken{}, err
	}
	return f.mint(ctx, t, sub, req.Scope)
}

// verifySubject runs every check on the subject token and returns the
// trust it matches and its sub. Failed checks are exchangeRefused.
func (f *Federation) verifySubject(ctx context.Context, req ExchangeRequest) (storage.Trust, string, error) {
	j, err := parseOutsideJWT(req.SubjectToken)
	if err != nil {
		return storage.Trust{}, "", refuseExchange("%v", err)
	}
	cl, err := decodeOutsideClaims(j.payload)
	if err != nil {
		return storage.Trust{}, "", refuseExchange("%v", err)
	}
	if cl.Iss == "" || cl.Iss == f.d.Issuer {
		// Our own tokens are never subject tokens: an authority token
		// must not turn into one for another domain or a longer life.
		return storage.Trust{}, "", refuseExchange("issued by this server (or no iss)")
	}
	all, err := f.cachedTrusts(ctx)
	if err != nil {
		return storage.Trust{}, "", err
	}
	var ofIssuer []storage.Trust
	for _, t := range all {
		if t.Issuer == cl.Iss {
			ofIssuer = append(ofIssuer, t)
		}
	}
	if len(ofIssuer) == 0 {
		// Only issuers an operator trusts are ever fetched from.
		return storage.Trust{}, "", refuseExchange("unknown issuer %q", cl.Iss)
	}
	keys, err := f.d.Fetcher.IssuerKeys(ctx, cl.Iss, false)
	if err == nil && !j.hasKid(keys) {
		keys, err = f.d.Fetcher.IssuerKeys(ctx, cl.Iss, true)
	}
	if err != nil {
		return storage.Trust{}, "", refuseExchange("issuer keys: %v", err)
	}
	if err := j.verify(j.candidates(keys)); err != nil {
		return storage.Trust{}, "", refuseExchange("%v", err)
	}
	if err := checkSubjectTimes(cl, f.d.Now()); err != nil {
		return storage.Trust{}, "", err
	}
	if cl.Sub == "" || len(cl.Sub) > maxSubLen {
		return storage.Trust{}, "", refuseExchange("sub missing or longer than %d", maxSubLen)
	}
	t, err := f.pickTrust(ofIssuer, cl, req)
	return t, cl.Sub, err
}

// checkSubjectTimes: exp required and not past; nbf and iat not in the
// future; a lifetime (exp − iat, or exp − nbf without iat) of at most
// MaxSubjectLifetime.
func checkSubjectTimes(cl outsideClaims, now time.Time) error {
	if cl.Exp == nil {
		return refuseExchange("no exp")
	}
	exp := cl.Exp.time()
	if !now.Before(exp.Add(subjectSkew)) {
		return refuseExchange("expired")
	}
	if cl.Nbf != nil && cl.Nbf.time().After(now.Add(subjectSkew)) {
		return refuseExchange("not yet valid")
	}
	if cl.Iat != nil && cl.Iat.time().After(now.Add(subjectSkew)) {
		return refuseExchange("issued in the future")
	}
	var start time.Time
	switch {
	case cl.Iat != nil:
		start = cl.Iat.time()
	case cl.Nbf != nil:
		start = cl.Nbf.time()
	default:
		return refuseExchange("neither iat nor nbf: lifetime unknown")
	}
	if exp.Sub(start) > MaxSubjectLifetime {
		return refuseExchange("lifetime %v over %v", exp.Sub(start), MaxSubjectLifetime)
	}
	return nil
}

// pickTrust returns the first trust (oldest first) of the token's issuer
// whose audience the token carries, whose subject pattern matches its sub
// as a whole, of the requested domain if one is named, and whose scopes
// hold the requested ones. Matches in several domains with none named is
// a malformed request: the caller must say which domain it wants.
func (f *Federation) pickTrust(trusts []storage.Trust, cl outsideClaims, req ExchangeRequest) (storage.Trust, error) {
	var matched []storage.Trust
	audOK := false
	for _, t := range trusts {
		aud := t.Audience
		if aud == "" {
			aud = f.d.Issuer
		}
		if !cl.Aud.hasAny(aud) {
			continue
		}
		audOK = true
		if globMatch(t.Subject, cl.Sub) {
			matched = append(matched, t)
		}
	}
	switch {
	case !audOK:
		return storage.Trust{}, refuseExchange("aud %q names no trust's audience", []string(cl.Aud))
	case len(matched) == 0:
		return storage.Trust{}, refuseExchange("sub %q matches no trust's subject pattern", cl.Sub)
	}
	if req.Domain != "" {
		d, err := NormalizeDomain(req.Domain)
		if err != nil {
			return storage.Trust{}, err
		}
		matched = slices.DeleteFunc(matched, func(t storage.Trust) bool { return t.Domain != d })
		if len(matched) == 0 {
			return storage.Trust{}, refuseExchange("no trust for domain %q matches", d)
		}
	} else if slices.ContainsFunc(matched, func(t storage.Trust) bool { return t.Domain != matched[0].Domain }) {
		return storage.Trust{}, InvalidRequest("Trusts of several domains match this token: name the domain")
	}
	want := strings.Fields(req.Scope)
	for _, t := range matched {
		if !slices.ContainsFunc(want, func(s string) bool { return !slices.Contains(t.Scopes, s) }) {
			return t, nil
		}
	}
	return storage.Trust{}, refuseExchange("scope %q beyond the trust's", req.Scope)
}

// mint issues the authority token of trust t for the outside subject sub,
// unless t's domain is blocked now.
func (f *Federation) mint(ctx context.Context, t storage.Trust, sub, scope string) (AuthorityToken, error) {
	if f.d.Tokens == nil || f.d.Policy == nil {
		return AuthorityToken{}, errors.New("provider: federation: no token minter or domain policy")
	}
	blocked, err := f.d.Policy.Blocked(ctx, t.Domain)
	if err != nil {
		return AuthorityToken{}, err
	}
	if blocked {
		f.d.Log.InfoContext(ctx, "token exchange refused", "check", "domain blocked", "trust", t.ID)
		return AuthorityToken{}, ErrExchangeRefused
	}
	granted := t.Scopes
	if want := strings.Fields(scope); len(want) > 0 {
		granted = dedupe(want)
	}
	tok, claims, err := f.d.Tokens.MintAccess(ctx, keys.AccessClaims{
		Subject: sub, ClientID: t.ID, Scope: strings.Join(granted, " "), Domain: t.Domain,
	})
	if err != nil {
		return AuthorityToken{}, fmt.Errorf("mint exchanged token: %w", err)
	}
	return AuthorityToken{AccessToken: tok, Scope: claims.Scope, Domain: t.Domain,
		ExpiresIn: claims.ExpiresAt.Sub(claims.IssuedAt)}, nil
}
