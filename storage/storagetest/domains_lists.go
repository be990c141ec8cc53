package storagetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"user-registry/storage"
)

// manyDomains returns n records "d0000.<suffix>", "d0001.<suffix>", ... in
// reverse order (so a backend that kept input order would fail the
// ordering checks), all with belongsTo.
func manyDomains(n int, suffix string, belongsTo int) []storage.DomainRecord {
	out := make([]storage.DomainRecord, n)
	for i := range n {
		out[n-1-i] = storage.DomainRecord{Domain: fmt.Sprintf("d%05d.%s", i, suffix), BelongsTo: belongsTo}
	}
	return out
}

// pageAll reads every page of ListDomainsPage for q, limit records at a
// time, and fails t if a page is longer than limit or out of order.
func pageAll(t *testing.T, s Stores, q string, limit int) []storage.DomainRecord {
	t.Helper()
	var all []storage.DomainRecord
	after := ""
	for range 100000 {
		page, err := s.Domains.ListDomainsPage(context.Background(), q, after, limit)
		recErr(t, "list page", err, nil)
		if len(page) > limit {
			t.Fatalf("page of %d records, limit %d", len(page), limit)
		}
		for _, r := range page {
			if r.Domain <= after {
				t.Fatalf("page after %q holds %q: out of order or repeated", after, r.Domain)
			}
			after = r.Domain
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
	}
	t.Fatal("paging never ended")
	return nil
}

func domainNames(recs []storage.DomainRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Domain
	}
	return out
}

// lookupNames returns the sorted domains LookupDomains finds among names.
func lookupNames(t *testing.T, s Stores, names ...string) []string {
	t.Helper()
	recs, err := s.Domains.LookupDomains(context.Background(), names)
	recErr(t, "lookup", err, nil)
	got := domainNames(recs)
	sort.Strings(got)
	return got
}

// testDomainLists: the operations that keep the domain policy and the
// admin listing cheap with a million records (SPEC §13), and the
// all-or-nothing import (SEC-72).
func testDomainLists(t *testing.T, s Stores) {
	ctx := context.Background()
	now := s.Clock.Now()

	t.Run("lookup", func(t *testing.T) {
		for _, r := range []storage.DomainRecord{
			{Domain: "evil.lookup.test", BelongsTo: storage.DomainBlocked},
			{Domain: "a.evil.lookup.test", BelongsTo: storage.DomainAllowed},
		} {
			recErr(t, "put", s.Domains.PutDomain(ctx, r), nil)
		}
		recs, err := s.Domains.LookupDomains(ctx, []string{"x.a.evil.lookup.test", "a.evil.lookup.test", "evil.lookup.test", "lookup.test", "test"})
		recErr(t, "lookup", err, nil)
		got := map[string]int{}
		for _, r := range recs {
			got[r.Domain] = r.BelongsTo
		}
		want := map[string]int{"a.evil.lookup.test": storage.DomainAllowed, "evil.lookup.test": storage.DomainBlocked}
		if len(recs) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("lookup = %+v, want %v", recs, want)
		}
		for _, names := range [][]string{nil, {}, {"none.lookup.test"}} {
			if got := lookupNames(t, s, names...); len(got) != 0 {
				t.Fatalf("lookup %q = %q, want nothing", names, got)
			}
		}
	})

	t.Run("import-counts", func(t *testing.T) {
		recErr(t, "put", s.Domains.PutDomain(ctx, storage.DomainRecord{Domain: "old.count.test", BelongsTo: storage.DomainAllowed, UpdatedAt: now}), nil)
		recErr(t, "put", s.Domains.PutDomain(ctx, storage.DomainRecord{Domain: "same.count.test", BelongsTo: storage.DomainBlocked, UpdatedAt: now}), nil)
		s.Clock.Advance(time.Hour)
		later := s.Clock.Now()
		in := []storage.DomainRecord{
			{Domain: "new.count.test", BelongsTo: storage.DomainBlocked},
			{Domain: "old.count.test", BelongsTo: storage.DomainBlocked},
			{Domain: "same.count.test", BelongsTo: storage.DomainBlocked},
		}
		n, err := s.Domains.ImportDomains(ctx, in)
		recErr(t, "import", err, nil)
		if n != (storage.DomainImport{Inserted: 1, Updated: 1, Unchanged: 1}) {
			t.Fatalf("import counts %+v, want 1 inserted, 1 updated, 1 unchanged", n)
		}
		got := pageAll(t, s, ".count.test", 10)
		wantTimes := map[string]time.Time{"new.count.test": later, "old.count.test": later, "same.count.test": now}
		if len(got) != 3 {
			t.Fatalf("after import: %+v", got)
		}
		for _, r := range got {
			if r.BelongsTo != storage.DomainBlocked {
				t.Errorf("%s belongs_to %d after import", r.Domain, r.BelongsTo)
			}
			// An unchanged record keeps its time: re-importing a list
			// writes nothing.
			recTime(t, r.Domain+" UpdatedAt", r.UpdatedAt, wantTimes[r.Domain])
		}
		n, err = s.Domains.ImportDomains(ctx, in)
		recErr(t, "import again", err, nil)
		if n != (storage.DomainImport{Unchanged: 3}) {
			t.Fatalf("second import counts %+v, want 3 unchanged", n)
		}
		n, err = s.Domains.ImportDomains(ctx, nil)
		recErr(t, "import nothing", err, nil)
		if n != (storage.DomainImport{}) {
			t.Fatalf("empty import counts %+v", n)
		}
	})

	t.Run("import-and-page", func(t *testing.T) {
		// More records than any backend's batch, so several batches and
		// pages are crossed.
		in := manyDomains(2500, "page.test", storage.DomainBlocked)
		n, err := s.Domains.ImportDomains(ctx, in)
		recErr(t, "import", err, nil)
		if n != (storage.DomainImport{Inserted: len(in)}) {
			t.Fatalf("import counts %+v, want %d inserted", n, len(in))
		}
		want := domainNames(in)
		slices.Reverse(want)
		for _, limit := range []int{1, 7, 500, 2500, 3000} {
			got := domainNames(pageAll(t, s, ".page.test", limit))
			if !slices.Equal(got, want) {
				t.Fatalf("limit %d: paged %d records (first %q), want %d", limit, len(got), got[:min(3, len(got))], len(want))
			}
		}
		// The substring filter: a part of a name, and the cursor with it.
		got := domainNames(pageAll(t, s, "d0249", 1))
		if want := []string{"d02490.page.test", "d02491.page.test", "d02492.page.test", "d02493.page.test", "d02494.page.test", "d02495.page.test", "d02496.page.test", "d02497.page.test", "d02498.page.test", "d02499.page.test"}; !slices.Equal(got, want) {
			t.Fatalf("q=d0249: %q", got)
		}
		page, err := s.Domains.ListDomainsPage(ctx, ".page.test", "d02497.page.test", 10)
		recErr(t, "page after", err, nil)
		if got := domainNames(page); !slices.Equal(got, []string{"d02498.page.test", "d02499.page.test"}) {
			t.Fatalf("after d02497: %q", got)
		}
		if page, err := s.Domains.ListDomainsPage(ctx, "", "", 0); err != nil || len(page) != 0 {
			t.Fatalf("limit 0 = %d records, %v", len(page), err)
		}
	})

	t.Run("page-filter-is-literal", func(t *testing.T) {
		// LIKE wildcards and the escape character in q match themselves.
		for _, d := range []string{"x_y.like.test", "xzy.like.test", "a%b.like.test", "ab.like.test", "c!d.like.test"} {
			recErr(t, "put "+d, s.Domains.PutDomain(ctx, storage.DomainRecord{Domain: d}), nil)
		}
		for q, want := range map[string][]string{
			"x_y":      {"x_y.like.test"},
			"a%b":      {"a%b.like.test"},
			"c!d":      {"c!d.like.test"},
			"%":        {"a%b.like.test"},
			"!":        {"c!d.like.test"},
			".like.te": {"a%b.like.test", "ab.like.test", "c!d.like.test", "x_y.like.test", "xzy.like.test"},
		} {
			got := domainNames(pageAll(t, s, q, 100))
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("q=%q: %q, want %q", q, got, want)
			}
		}
	})

	t.Run("import-all-or-nothing", func(t *testing.T) {
		// SEC-72: a record that fails late, after whole batches were
		// written, leaves none of them behind, and no change to a record
		// that existed.
		recErr(t, "put", s.Domains.PutDomain(ctx, storage.DomainRecord{Domain: "d00001.atomic.test", BelongsTo: storage.DomainAllowed}), nil)
		in := manyDomains(2500, "atomic.test", storage.DomainBlocked)
		in[2400].Domain = ""
		if _, err := s.Domains.ImportDomains(ctx, in); err == nil {
			t.Fatal("import with an empty domain succeeded")
		}
		got := pageAll(t, s, ".atomic.test", 100)
		if len(got) != 1 || got[0].Domain != "d00001.atomic.test" || got[0].BelongsTo != storage.DomainAllowed {
			t.Fatalf("after a failed import: %d records %+v, want only the one put before", len(got), got[:min(3, len(got))])
		}
	})
}
