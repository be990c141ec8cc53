package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"user-registry/storage"
)

// DomainPolicyTTL is how long DomainPolicy trusts an answer it looked up:
// SPEC §4 promises admin changes are visible within 5 s on every node, even
// nodes that did not make the change.
const DomainPolicyTTL = 5 * time.Second

// DomainPolicyCacheSize bounds the answers DomainPolicy keeps: 10,000
// domains of at most 253 bytes are a few MB whatever the size of the list
// (SPEC §13: memory does not grow with the list).
const DomainPolicyCacheSize = 10000

// domainLookup is what the policy needs of a DomainStore.
type domainLookup interface {
	LookupDomains(ctx context.Context, names []string) ([]storage.DomainRecord, error)
}

// DomainPolicy answers whether a domain may register (SPEC §4, §13,
// SEC-33/34). It never loads the list: a question about "a.b.evil.com"
// costs one indexed query for the records of "a.b.evil.com", "b.evil.com",
// "evil.com" and "com", the same with no records as with a million. Answers
// are kept in a bounded LRU for less than DomainPolicyTTL (by the injected
// clock, so tests move time instead of sleeping); concurrent questions
// about one domain share one query. Safe for concurrent use.
type DomainPolicy struct {
	store          domainLookup
	defaultBlocked bool
	now            func() time.Time
	cache          *lru.Cache[string, policyAnswer]
	flights        singleflight.Group

	mu  sync.Mutex
	gen uint64 // bumped by Invalidate

	queries atomic.Uint64 // LookupDomains calls, for metrics
}

// policyAnswer is one cached answer: at is the clock before its query was
// sent, gen the Invalidate generation it was asked in.
type policyAnswer struct {
	rule DomainRule
	at   time.Time
	gen  uint64
}

// DomainRule is the policy's answer for a domain: whether it may register,
// and whether its users must complete a second factor at every sign-in
// (SPEC §10). The most specific record decides both.
type DomainRule struct {
	Blocked    bool
	RequireMFA bool
}

// NewDomainPolicy returns a policy over store. defaultBlocked is the answer
// for a domain no record covers (--default-domain-policy; the original
// service allowed). now may be nil (time.Now).
func NewDomainPolicy(store domainLookup, defaultBlocked bool, now func() time.Time) *DomainPolicy {
	if now == nil {
		now = time.Now
	}
	cache, err := lru.New[string, policyAnswer](DomainPolicyCacheSize)
	if err != nil {
		panic(err) // only for a size ≤ 0, and the size is a constant
	}
	return &DomainPolicy{store: store, defaultBlocked: defaultBlocked, now: now, cache: cache}
}

// Blocked reports whether signups from domain are refused. domain must be
// normalized (NormalizeDomain). The most specific record wins: for
// "a.b.evil.com" the records for "a.b.evil.com", "b.evil.com", "evil.com" and
// "com" are candidates, on label boundaries only, so a record for
// "evil.com" covers "mail.evil.com" but neither "notevil.com" nor
// "evil.com.attacker.net". A domain no record covers gets the default.
//
// A store failure is returned (wrapped), never taken as "allowed", and not
// cached.
func (p *DomainPolicy) Blocked(ctx context.Context, domain string) (bool, error) {
	r, err := p.Rule(ctx, domain)
	return r.Blocked, err
}

// RequireMFA reports whether users of domain must complete a second factor
// (the most specific record's require_mfa; false where none covers it).
func (p *DomainPolicy) RequireMFA(ctx context.Context, domain string) (bool, error) {
	r, err := p.Rule(ctx, domain)
	return r.RequireMFA, err
}

// Rule is the whole answer for domain, cached and looked up as Blocked
// describes.
func (p *DomainPolicy) Rule(ctx context.Context, domain string) (DomainRule, error) {
	if err := ctx.Err(); err != nil {
		return DomainRule{}, fmt.Errorf("domain policy: %w", err)
	}
	gen := p.generation()
	// The generation is part of the flight's key: a question asked after
	// Invalidate never joins a query sent before it.
	key := strconv.FormatUint(gen, 10) + " " + domain
	for attempt := 0; ; attempt++ {
		if b, ok := p.cached(domain, gen); ok {
			return b, nil
		}
		ch := p.flights.DoChan(key, func() (any, error) {
			// Again inside the flight: a query that ended between the
			// check above and this flight has cached its answer.
			if b, ok := p.cached(domain, gen); ok {
				return b, nil
			}
			return p.lookup(ctx, domain, gen)
		})
		select {
		case <-ctx.Done():
			return DomainRule{}, fmt.Errorf("domain policy: %w", ctx.Err())
		case r := <-ch:
			if r.Err == nil {
				return r.Val.(DomainRule), nil
			}
			// A shared query runs under the context of the caller that
			// started it; when that caller gave up, ask again under ours.
			if r.Shared && attempt < 3 && ctx.Err() == nil &&
				(errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded)) {
				continue
			}
			return DomainRule{}, r.Err
		}
	}
}

// lookup asks the store about domain and its parents and caches the answer
// under generation gen.
func (p *DomainPolicy) lookup(ctx context.Context, domain string, gen uint64) (DomainRule, error) {
	start := p.now()
	names := domainSuffixes(domain)
	p.queries.Add(1)
	recs, err := p.store.LookupDomains(ctx, names)
	if err != nil {
		return DomainRule{}, fmt.Errorf("domain policy: lookup %s: %w", domain, err)
	}
	rule, best := DomainRule{Blocked: p.defaultBlocked}, ""
	for _, r := range recs {
		// The longest name asked about is the most specific; a record
		// for a name not asked about (a store's mistake) is ignored.
		if len(r.Domain) > len(best) && containsName(names, r.Domain) {
			blocked := r.BelongsTo == storage.DomainBlocked
			rule, best = DomainRule{Blocked: blocked, RequireMFA: r.RequireMFA && !blocked}, r.Domain
		}
	}
	p.cache.Add(domain, policyAnswer{rule: rule, at: start, gen: gen})
	return rule, nil
}

// Invalidate forgets every answer, so a change made through this node is
// visible here at once. A query already running when Invalidate is called
// answers its own callers but is not cached for later ones.
func (p *DomainPolicy) Invalidate() {
	p.mu.Lock()
	p.gen++
	p.mu.Unlock()
	p.cache.Purge()
}

// cached returns the answer for domain if one asked in generation gen is
// still fresh.
func (p *DomainPolicy) cached(domain string, gen uint64) (DomainRule, bool) {
	a, ok := p.cache.Get(domain)
	if !ok || a.gen != gen || !p.fresh(a.at) {
		return DomainRule{}, false
	}
	return a.rule, true
}

// CacheLen is the number of answers held, at most DomainPolicyCacheSize.
func (p *DomainPolicy) CacheLen() int { return p.cache.Len() }

// Queries is the number of store lookups made so far: with CacheLen, what
// /metrics shows of the policy.
func (p *DomainPolicy) Queries() uint64 { return p.queries.Load() }

func (p *DomainPolicy) generation() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// fresh reports whether an answer whose query started at at may still be
// served. A clock that went backwards also forces a new query.
func (p *DomainPolicy) fresh(at time.Time) bool {
	age := p.now().Sub(at)
	return age >= 0 && age < DomainPolicyTTL
}

// domainSuffixes returns domain and each parent on a label boundary, most
// specific first: "a.b.com" → ["a.b.com", "b.com", "com"].
func domainSuffixes(domain string) []string {
	names := []string{domain}
	for d := domain; ; {
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return names
		}
		d = d[i+1:]
		names = append(names, d)
	}
}

func containsName(names []string, d string) bool {
	for _, n := range names {
		if n == d {
			return true
		}
	}
	return false
}
