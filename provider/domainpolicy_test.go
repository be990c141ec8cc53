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

// fakeDomains is a DomainStore over a map whose failure the test controls,
// and which counts LookupDomains calls and keeps the names of the last.
// While gate is set, LookupDomains waits for it (or its context) after
// signalling entered.
type fakeDomains struct {
	mu      sync.Mutex
	records map[string]int
	err     error
	lookups int
	names   []string
	gate    chan struct{}
	entered chan struct{}
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
	panic("the policy must never load the whole list")
}

func (f *fakeDomains) ListDomainsPage(context.Context, string, string, int) ([]storage.DomainRecord, error) {
	panic("the policy must never list")
}

func (f *fakeDomains) ImportDomains(context.Context, []storage.DomainRecord) (storage.DomainImport, error) {
	panic("not used")
}

func (f *fakeDomains) LookupDomains(ctx context.Context, names []string) ([]storage.DomainRecord, error) {
	f.mu.Lock()
	f.lookups++
	f.names = append([]string(nil), names...)
	gate, entered := f.gate, f.entered
	f.mu.Unlock()
	if gate != nil {
		entered <- struct{}{}
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []storage.DomainRecord
	for _, n := range names {
		if b, ok := f.records[n]; ok {
			out = append(out, storage.DomainRecord{Domain: n, BelongsTo: b})
		}
	}
	return out, nil
}

func (f *fakeDomains) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// calls returns the number of LookupDomains calls so far and the names of
// the last.
func (f *fakeDomains) calls() (int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups, f.names
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
