package provider_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// fakeDomains is a DomainStore whose list and failure the test controls,
// and which counts ListDomains calls.
type fakeDomains struct {
	mu      sync.Mutex
	records map[string]int
	err     error
	lists   int
}

func newFakeDomains(records map[string]int) *fakeDomains {
	return &fakeDomains{records: records}
}

func (f *fakeDomains) PutDomain(_ context.Context, r storage.DomainRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[r.Domain] = r.BelongsTo
	return nil
}

func (f *fakeDomains) DeleteDomain(_ context.Context, d string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.records[d]; !ok {
		return storage.ErrNotFound
	}
	delete(f.records, d)
	return nil
}

func (f *fakeDomains) ListDomains(context.Context) ([]storage.DomainRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.err != nil {
		return nil, f.err
	}
	var out []storage.DomainRecord
	for d, b := range f.records {
		out = append(out, storage.DomainRecord{Domain: d, BelongsTo: b})
	}
	return out, nil
}

func (f *fakeDomains) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeDomains) listCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

// SEC-33, SEC-34: matching on label boundaries, most specific record wins.
func TestDomainPolicyBlocked(t *testing.T) {
	records := map[string]int{
		"evil.com":              storage.DomainBlocked,
		"a.evil.com":            storage.DomainAllowed,
		"b.a.evil.com":          storage.DomainBlocked,
		"good.org":              storage.DomainAllowed,
		"xn--e1afmkfd.xn--p1ai": storage.DomainBlocked,
	}
	tests := []struct {
		input          string // raw; normalized first, as signup does
		defaultBlocked bool
		want           bool
	}{
		{"evil.com", false, true},
		{"EVIL.com", false, true},
		{"evil.com.", false, true},
		{"mail.evil.com", false, true},
		{"deep.mail.evil.com", false, true},
		{"ｅｖｉｌ.com", false, true},
		{"ＭＡＩＬ．ｅｖｉｌ.com", false, true},
		{"пример.рф", false, true},             // record stored in punycode
		{"xn--e1afmkfd.xn--p1ai", false, true}, // punycode given
		{"notevil.com", false, false},
		{"evil.com.attacker.net", false, false},
		{"evilcom.net", false, false},
		{"a.evil.com", false, false},   // allow beats parent's block
		{"x.a.evil.com", false, false}, // ... for its subdomains too
		{"b.a.evil.com", false, true},  // and a deeper block beats it
		{"good.org", true, false},      // allowed despite default block
		{"mail.good.org", true, false},
		{"unknown.net", false, false}, // default allow
		{"unknown.net", true, true},   // default block
		{"notevil.com", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			p := provider.NewDomainPolicy(newFakeDomains(records), tt.defaultBlocked, newClock().Now)
			d, err := provider.NormalizeDomain(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Blocked(context.Background(), d)
			if err != nil || got != tt.want {
				t.Fatalf("Blocked(%q) = %v, %v; want %v", d, got, err, tt.want)
			}
		})
	}
}

func TestDomainPolicyMixedScriptRefused(t *testing.T) {
	// A homograph never reaches the policy: normalization refuses it (400).
	if _, err := provider.NormalizeDomain("еvil.com"); !errors.Is(err, provider.ErrInvalidInput) {
		t.Fatalf("mixed-script domain: err = %v, want ErrInvalidInput", err)
	}
}

func TestDomainPolicyReload(t *testing.T) {
	ctx := context.Background()
	store := newFakeDomains(map[string]int{})
	clock := newClock()
	p := provider.NewDomainPolicy(store, false, clock.Now)

	blocked := func() bool {
		t.Helper()
		b, err := p.Blocked(ctx, "evil.com")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if blocked() {
		t.Fatal("blocked before any record")
	}
	// A change made elsewhere is not seen before the TTL...
	_ = store.PutDomain(ctx, storage.DomainRecord{Domain: "evil.com", BelongsTo: storage.DomainBlocked})
	clock.Advance(provider.DomainPolicyTTL - time.Millisecond)
	if blocked() {
		t.Fatal("cache reloaded before the TTL")
	}
	if n := store.listCalls(); n != 1 {
		t.Fatalf("ListDomains called %d times within the TTL, want 1", n)
	}
	// ...and is seen once it has passed (SPEC §4: within 5 s).
	clock.Advance(time.Millisecond)
	if !blocked() {
		t.Fatal("change not visible after the TTL")
	}
	// A local change plus Invalidate is visible at once.
	_ = store.DeleteDomain(ctx, "evil.com")
	p.Invalidate()
	if blocked() {
		t.Fatal("change not visible after Invalidate")
	}
	// A clock going backwards forces a reload rather than trusting the cache.
	n := store.listCalls()
	clock.Advance(-time.Second)
	blocked()
	if store.listCalls() != n+1 {
		t.Fatal("no reload after the clock went backwards")
	}
}

func TestDomainPolicyStoreError(t *testing.T) {
	ctx := context.Background()
	store := newFakeDomains(map[string]int{})
	clock := newClock()
	p := provider.NewDomainPolicy(store, false, clock.Now)
	down := errors.New("connection refused")
	store.setErr(down)
	if _, err := p.Blocked(ctx, "fine.com"); !errors.Is(err, down) {
		t.Fatalf("first load: err = %v, want the store error", err)
	}
	// Once the cache is stale, a failing store is an error, not the stale
	// answer or "allowed".
	store.setErr(nil)
	if _, err := p.Blocked(ctx, "fine.com"); err != nil {
		t.Fatal(err)
	}
	store.setErr(down)
	clock.Advance(provider.DomainPolicyTTL)
	if _, err := p.Blocked(ctx, "fine.com"); !errors.Is(err, down) {
		t.Fatalf("reload: err = %v, want the store error", err)
	}
}

func TestDomainPolicyConcurrent(t *testing.T) {
	ctx := context.Background()
	store := newFakeDomains(map[string]int{"evil.com": storage.DomainBlocked})
	clock := newClock()
	p := provider.NewDomainPolicy(store, false, clock.Now)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%10 == 0 {
				p.Invalidate()
				clock.Advance(time.Second)
			}
			if b, err := p.Blocked(ctx, "mail.evil.com"); err != nil || !b {
				t.Errorf("Blocked = %v, %v", b, err)
			}
		}()
	}
	wg.Wait()
}

func TestDomainPolicyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := provider.NewDomainPolicy(newFakeDomains(map[string]int{}), false, newClock().Now)
	if _, err := p.Blocked(ctx, "x.com"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
