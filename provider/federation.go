package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"user-registry/storage"
)

// ErrTrustNotFound: no trust with that id (federation remove).
var ErrTrustNotFound = errors.New("no such trust")

// TrustCacheTTL bounds how long this node uses the list of trusts it read:
// SPEC §1's 5 s for changes made by the CLI or another node.
const TrustCacheTTL = 4 * time.Second

// FederationDeps are the dependencies of Federation. The CLI, which only
// manages trusts, passes Store alone; the server the rest, for Exchange.
type FederationDeps struct {
	Store   storage.FederationStore // required
	Issuer  string                  // ours: default audience; our own tokens are refused
	Tokens  authorityMinter         // mints the exchanged authority tokens
	Policy  *DomainPolicy           // a blocked domain gets no token
	Fetcher *Fetcher                // outside discovery and JWKS; nil: a default Fetcher
	Limit   *RateLimiter            // per trust, as --limit-client is per client; nil: none
	Now     func() time.Time        // nil → time.Now
	Log     *slog.Logger            // which check refused an exchange; nil: discarded
}

// Federation manages the trusts of workload identity federation and runs
// the token-exchange grant over them (SPEC §11, RFC 8693; tokenexchange.go).
// Safe for concurrent use.
type Federation struct {
	d FederationDeps

	mu       sync.Mutex
	trusts   []storage.Trust
	loadedAt time.Time
}

// NewFederation returns the federation service. Returns an error when
// d.Store is nil.
func NewFederation(d FederationDeps) (*Federation, error) {
	if d.Store == nil {
		return nil, errors.New("provider: federation needs a store")
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
	return &Federation{d: d}, nil
}

// TrustSpec describes a trust to add: tokens of Issuer whose sub matches
// the glob Subject and whose aud holds Audience ("" = our issuer) may be
// exchanged for authority tokens of Domain with at most Scopes.
type TrustSpec struct {
	Domain   string
	Issuer   string
	Subject  string
	Audience string
	Scopes   []string
}

// Add validates spec and stores it as a new trust. Returns an error
// wrapping ErrInvalidInput for a bad spec.
func (f *Federation) Add(ctx context.Context, spec TrustSpec) (storage.Trust, error) {
	t, err := validateTrust(spec)
	if err != nil {
		return storage.Trust{}, err
	}
	if f.d.Issuer != "" && t.Issuer == f.d.Issuer {
		return storage.Trust{}, InvalidInput("This server's own issuer cannot be trusted for token exchange")
	}
	t.CreatedAt = f.d.Now().UTC().Truncate(time.Second)
	for range 3 {
		t.ID = "trust_" + randomText(12)
		if err = f.d.Store.CreateTrust(ctx, &t); !errors.Is(err, storage.ErrExists) {
			break
		}
	}
	if err != nil {
		return storage.Trust{}, fmt.Errorf("create trust: %w", err)
	}
	f.forget()
	return t, nil
}

// List returns every trust, oldest first, fresh from the store.
func (f *Federation) List(ctx context.Context) ([]storage.Trust, error) {
	list, err := f.d.Store.ListTrusts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list trusts: %w", err)
	}
	return list, nil
}

// Remove deletes trust id. Returns ErrTrustNotFound.
func (f *Federation) Remove(ctx context.Context, id string) error {
	err := f.d.Store.DeleteTrust(ctx, id)
	f.forget()
	if errors.Is(err, storage.ErrNotFound) {
		return ErrTrustNotFound
	}
	if err != nil {
		return fmt.Errorf("delete trust %s: %w", id, err)
	}
	return nil
}

// cachedTrusts returns the trusts, read again when older than
// TrustCacheTTL. The slice is shared: read it, never modify.
func (f *Federation) cachedTrusts(ctx context.Context) ([]storage.Trust, error) {
	now := f.d.Now()
	f.mu.Lock()
	if f.trusts != nil {
		if a := now.Sub(f.loadedAt); a >= 0 && a < TrustCacheTTL {
			defer f.mu.Unlock()
			return f.trusts, nil
		}
	}
	f.mu.Unlock()
	list, err := f.List(ctx)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.trusts, f.loadedAt = list, now
	f.mu.Unlock()
	return list, nil
}

func (f *Federation) forget() {
	f.mu.Lock()
	f.trusts = nil
	f.mu.Unlock()
}

// validateTrust checks spec: a domain; an issuer URL under the fetch rules
// without query (issuer identifiers have none, OIDC Discovery §2); a
// subject pattern of printable characters; scope tokens, registry:admin
// excepted (an outside workload never administers this server).
func validateTrust(spec TrustSpec) (storage.Trust, error) {
	domain, err := NormalizeDomain(spec.Domain)
	if err != nil {
		return storage.Trust{}, err
	}
	if err := CheckFetchURL(spec.Issuer); err != nil {
		return storage.Trust{}, err
	}
	if u, _ := url.Parse(spec.Issuer); u.RawQuery != "" || u.ForceQuery {
		return storage.Trust{}, InvalidInput("The issuer has no query part")
	}
	printable := func(s string, max int) bool {
		return s != "" && len(s) <= max && strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) < 0
	}
	if !printable(spec.Subject, 1024) {
		return storage.Trust{}, InvalidInput("--subject: a pattern of at most 1024 printable characters")
	}
	if spec.Audience != "" && (!printable(spec.Audience, 512) || strings.ContainsAny(spec.Audience, " \t")) {
		return storage.Trust{}, InvalidInput("--audience: at most 512 printable characters, no spaces")
	}
	scopes := dedupe(spec.Scopes)
	for _, sc := range scopes {
		if !validScopeToken(sc) {
			return storage.Trust{}, InvalidInput(fmt.Sprintf("Invalid scope %q", sc))
		}
		if sc == ScopeAdmin {
			return storage.Trust{}, InvalidInput("Scope registry:admin is never granted by token exchange")
		}
	}
	return storage.Trust{Domain: domain, Issuer: spec.Issuer, Subject: spec.Subject, Audience: spec.Audience, Scopes: scopes}, nil
}

// globMatch reports whether s matches pattern as a whole. In pattern, '*'
// matches any run of bytes ('/' and ':' included, and none); every other
// byte matches itself, case-sensitively. Linear backtracking over the last
// star keeps it O(len(pattern)·len(s)).
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
