package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"user-registry/storage"
)

// DomainPolicyTTL is how long DomainPolicy serves a loaded list before
// reloading it: SPEC §4 promises admin changes are visible within 5 s on
// every node, even nodes that did not make the change.
const DomainPolicyTTL = 5 * time.Second

// DomainPolicy answers whether a domain may register (SPEC §4, SEC-33/34).
// It keeps the whole DomainCheck list in memory, reloading it at most every
// DomainPolicyTTL: the list is small and read on every signup, so one query
// per TTL is cheaper than one per request. Safe for concurrent use.
type DomainPolicy struct {
	store          storage.DomainStore
	defaultBlocked bool
	now            func() time.Time

	// loading holds a token while one goroutine reloads, so concurrent
	// signups share one query and waiters can give up on ctx.
	loading chan struct{}

	mu        sync.RWMutex
	blocked   map[string]bool // normalized domain → blocked
	loadedAt  time.Time
	loadedGen uint64 // gen at the start of the load that filled blocked
	gen       uint64 // bumped by Invalidate
	loaded    bool
}

// NewDomainPolicy returns a policy over store. defaultBlocked is the answer
// for a domain no record covers (--default-domain-policy; the original
// service allowed). now may be nil (time.Now).
func NewDomainPolicy(store storage.DomainStore, defaultBlocked bool, now func() time.Time) *DomainPolicy {
	if now == nil {
		now = time.Now
	}
	return &DomainPolicy{
		store:          store,
		defaultBlocked: defaultBlocked,
		now:            now,
		loading:        make(chan struct{}, 1),
	}
}

// Blocked reports whether signups from domain are refused. domain must be
// normalized (NormalizeDomain). The most specific record wins: for
// "a.b.evil.com" the records for "a.b.evil.com", "b.evil.com", "evil.com" and
// "com" are tried in that order, on label boundaries only, so a record for
// "evil.com" covers "mail.evil.com" but neither "notevil.com" nor
// "evil.com.attacker.net". A domain no record covers gets the default.
//
// A store failure is returned (wrapped), never taken as "allowed".
func (p *DomainPolicy) Blocked(ctx context.Context, domain string) (bool, error) {
	records, err := p.records(ctx)
	if err != nil {
		return false, err
	}
	for d := domain; d != ""; {
		if blocked, ok := records[d]; ok {
			return blocked, nil
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return p.defaultBlocked, nil
}

// Invalidate makes the next Blocked reload the list, so a change made
// through this node is visible here at once. A load already running when
// Invalidate is called is not trusted beyond its own caller.
func (p *DomainPolicy) Invalidate() {
	p.mu.Lock()
	p.gen++
	p.mu.Unlock()
}

// records returns a fresh enough copy of the list, loading it if needed.
// The returned map is never modified afterwards (a reload builds a new one).
func (p *DomainPolicy) records(ctx context.Context) (map[string]bool, error) {
	if m, ok := p.fresh(); ok {
		return m, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("domain policy: %w", err)
	}
	select {
	case p.loading <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("domain policy: %w", ctx.Err())
	}
	defer func() { <-p.loading }()
	// Another goroutine may have reloaded while we waited.
	if m, ok := p.fresh(); ok {
		return m, nil
	}

	p.mu.RLock()
	gen := p.gen
	p.mu.RUnlock()
	start := p.now()
	list, err := p.store.ListDomains(ctx)
	if err != nil {
		return nil, fmt.Errorf("domain policy: list domains: %w", err)
	}
	m := make(map[string]bool, len(list))
	for _, r := range list {
		m[r.Domain] = r.BelongsTo == storage.DomainBlocked
	}

	p.mu.Lock()
	p.blocked, p.loadedAt, p.loadedGen, p.loaded = m, start, gen, true
	p.mu.Unlock()
	return m, nil
}

// fresh returns the cached list if it was loaded less than DomainPolicyTTL
// ago (by the injected clock) and not invalidated since.
func (p *DomainPolicy) fresh() (map[string]bool, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.loaded || p.loadedGen != p.gen {
		return nil, false
	}
	age := p.now().Sub(p.loadedAt)
	// A clock that went backwards also forces a reload.
	if age < 0 || age >= DomainPolicyTTL {
		return nil, false
	}
	return p.blocked, true
}
