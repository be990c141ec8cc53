package provider_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// TestDomainPolicyQueries: an uncached question is ONE LookupDomains call
// for the domain and its parents (SPEC §13: no node loads the list); the
// answer is reused within DomainPolicyTTL, asked again after it (SPEC §4:
// changes elsewhere are seen within 5 s), and at once after Invalidate.
func TestDomainPolicyQueries(t *testing.T) {
	ctx := context.Background()
	store := newFakeDomains(map[string]int{})
	clock := newClock()
	p := provider.NewDomainPolicy(store, false, clock.Now)

	// ask checks the answer for d and how many queries it took.
	ask := func(step, d string, want bool, queries int) {
		t.Helper()
		before, _ := store.calls()
		got, err := p.Blocked(ctx, d)
		if err != nil || got != want {
			t.Fatalf("%s: Blocked(%s) = %v, %v; want %v", step, d, got, err, want)
		}
		if after, _ := store.calls(); after-before != queries {
			t.Fatalf("%s: %d queries, want %d", step, after-before, queries)
		}
	}

	ask("first question", "x.a.evil.com", false, 1)
	if _, names := store.calls(); !slices.Equal(names, []string{"x.a.evil.com", "a.evil.com", "evil.com", "com"}) {
		t.Fatalf("looked up %q, want the domain and each parent", names)
	}
	// A change made elsewhere is not seen before the TTL...
	_ = store.PutDomain(ctx, storage.DomainRecord{Domain: "evil.com", BelongsTo: storage.DomainBlocked})
	clock.Advance(provider.DomainPolicyTTL - time.Millisecond)
	ask("cached", "x.a.evil.com", false, 0)
	// ...a domain not asked about before is a query of its own...
	ask("other domain", "mail.evil.com", true, 1)
	// ...and the change is seen once the TTL has passed.
	clock.Advance(time.Millisecond)
	ask("expired", "x.a.evil.com", true, 1)
	ask("cached again", "x.a.evil.com", true, 0)
	// A local change plus Invalidate is visible at once.
	_ = store.DeleteDomain(ctx, "evil.com")
	p.Invalidate()
	ask("after Invalidate", "x.a.evil.com", false, 1)
	ask("after Invalidate, other domain", "mail.evil.com", false, 1)
	// A clock going backwards forces a query rather than trusting the cache.
	clock.Advance(-time.Second)
	ask("clock went back", "x.a.evil.com", false, 1)
}

// TestDomainPolicyCacheBounded: the cache holds at most
// DomainPolicyCacheSize answers however many domains are asked about, and
// an evicted answer is simply asked again.
func TestDomainPolicyCacheBounded(t *testing.T) {
	ctx := context.Background()
	store := newFakeDomains(map[string]int{"d0.example": storage.DomainBlocked})
	p := provider.NewDomainPolicy(store, false, newClock().Now)
	n := provider.DomainPolicyCacheSize + 100
	for i := range n {
		if _, err := p.Blocked(ctx, fmt.Sprintf("d%d.example", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.CacheLen(); got != provider.DomainPolicyCacheSize {
		t.Fatalf("cache holds %d answers after %d domains, want %d", got, n, provider.DomainPolicyCacheSize)
	}
	calls, _ := store.calls()
	if b, err := p.Blocked(ctx, "d0.example"); err != nil || !b {
		t.Fatalf("evicted domain: %v, %v", b, err)
	}
	if again, _ := store.calls(); again != calls+1 {
		t.Fatalf("an evicted answer took %d queries, want 1", again-calls)
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
		t.Fatalf("first lookup: err = %v, want the store error", err)
	}
	// An error is not cached: the next question asks again.
	store.setErr(nil)
	if _, err := p.Blocked(ctx, "fine.com"); err != nil {
		t.Fatal(err)
	}
	// Once the answer is stale, a failing store is an error, not the
	// stale answer or "allowed".
	store.setErr(down)
	clock.Advance(provider.DomainPolicyTTL)
	if _, err := p.Blocked(ctx, "fine.com"); !errors.Is(err, down) {
		t.Fatalf("stale answer: err = %v, want the store error", err)
	}
}

// TestDomainPolicySharedQuery: questions about one domain that arrive while
// its query runs wait for that query instead of sending their own; one of
// them giving up does not fail the others.
func TestDomainPolicySharedQuery(t *testing.T) {
	store := newFakeDomains(map[string]int{"evil.com": storage.DomainBlocked})
	store.gate, store.entered = make(chan struct{}), make(chan struct{}, 100)
	p := provider.NewDomainPolicy(store, false, newClock().Now)

	// The first caller's query hangs in the store until it gives up.
	firstCtx, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := p.Blocked(firstCtx, "mail.evil.com")
		firstErr <- err
	}()
	<-store.entered

	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b, err := p.Blocked(context.Background(), "mail.evil.com"); err != nil || !b {
				errs <- fmt.Errorf("Blocked = %v, %v", b, err)
			}
		}()
	}
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want context.Canceled", err)
	}
	// The others asked again under their own contexts; let that through.
	<-store.entered
	close(store.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Everyone that waited shared a query: the first caller's, then the
	// one they retried together (never one each).
	if calls, _ := store.calls(); calls != 2 {
		t.Fatalf("%d queries for %d concurrent questions", calls, n+1)
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
	store := newFakeDomains(map[string]int{})
	p := provider.NewDomainPolicy(store, false, newClock().Now)
	if _, err := p.Blocked(ctx, "x.com"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls, _ := store.calls(); calls != 0 {
		t.Fatalf("%d queries for a cancelled request", calls)
	}
}
