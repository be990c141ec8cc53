package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"user-registry/storage"
)

// auditFixture appends a known set of events: 12 events over 6 instants,
// two per instant (ties broken by ID), for two users, two domains and
// three event names. The append order is not the time order.
func auditFixture(t *testing.T, s Stores) []storage.AuditEvent {
	t.Helper()
	base := s.Clock.Now().Add(-time.Hour).Truncate(time.Second)
	var in []storage.AuditEvent
	events := []string{"login_succeeded", "login_failed", "signup"}
	for _, step := range []int{3, 0, 5, 1, 4, 2} {
		for k := range 2 {
			n := step*2 + k
			in = append(in, storage.AuditEvent{
				Time:      base.Add(time.Duration(step)*time.Minute + 123456*time.Microsecond),
				Event:     events[n%3],
				UserID:    fmt.Sprintf("user-%d", n%2),
				ClientID:  "client-x",
				Domain:    []string{"a.audit.test", "b.audit.test"}[(n/2)%2],
				Actor:     "user",
				IP:        "2001:db8::1",
				UserAgent: "agent/1.0",
				Detail:    fmt.Sprintf("n=%d", n),
			})
		}
	}
	recErr(t, "append", s.Audit.AppendAuditEvents(context.Background(), in), nil)
	return in
}

// listAllEvents walks every page of f with page size size.
func listAllEvents(t *testing.T, s Stores, f storage.AuditFilter, size int) []storage.AuditEvent {
	t.Helper()
	var out []storage.AuditEvent
	f.Limit = size
	for range 100 {
		page, err := s.Audit.ListAuditEvents(context.Background(), f)
		recErr(t, "list", err, nil)
		out = append(out, page...)
		if len(page) < size {
			return out
		}
		last := page[len(page)-1]
		f.Cursor = storage.AuditCursor{Time: last.Time, ID: last.ID}
	}
	t.Fatal("paging did not end")
	return nil
}

// checkNewestFirst fails t unless list is strictly ordered by (Time, ID)
// descending.
func checkNewestFirst(t *testing.T, list []storage.AuditEvent) {
	t.Helper()
	for i := 1; i < len(list); i++ {
		a, b := list[i-1], list[i]
		if a.Time.Before(b.Time) || (a.Time.Equal(b.Time) && a.ID <= b.ID) {
			t.Fatalf("event %d (%v, id %d) listed before (%v, id %d)", i, b.Time, b.ID, a.Time, a.ID)
		}
	}
}

// auditGroups are the audit cases; each runs on a fresh store, since
// listing and pruning see every event in it.
var auditGroups = []struct {
	name string
	run  func(t *testing.T, s Stores)
}{
	{"audit-order", testAuditOrder},
	{"audit-filters", testAuditFilters},
	{"audit-paging", testAuditPaging},
	{"audit-stamp", testAuditStamp},
	{"audit-prune", testAuditPrune},
}

func testAuditOrder(t *testing.T, s Stores) {
	ctx := context.Background()
	t.Run("empty", func(t *testing.T) {
		recErr(t, "append nothing", s.Audit.AppendAuditEvents(ctx, nil), nil)
		got, err := s.Audit.ListAuditEvents(ctx, storage.AuditFilter{})
		recErr(t, "list", err, nil)
		if len(got) != 0 {
			t.Fatalf("fresh store lists %d events", len(got))
		}
	})

	t.Run("round-trip-and-order", func(t *testing.T) {
		in := auditFixture(t, s)
		got := listAllEvents(t, s, storage.AuditFilter{}, 100)
		if len(got) != len(in) {
			t.Fatalf("listed %d events, want %d", len(got), len(in))
		}
		checkNewestFirst(t, got)
		byDetail := map[string]storage.AuditEvent{}
		for _, e := range got {
			if e.ID <= 0 {
				t.Errorf("event %q has id %d", e.Detail, e.ID)
			}
			byDetail[e.Detail] = e
		}
		for _, w := range in {
			g, ok := byDetail[w.Detail]
			if !ok {
				t.Fatalf("event %q missing", w.Detail)
			}
			if !g.Time.Equal(w.Time) {
				t.Errorf("%s: time %v, want %v (microseconds kept)", w.Detail, g.Time, w.Time)
			}
			g.ID, g.Time, w.Time = 0, time.Time{}, time.Time{}
			if g != w {
				t.Errorf("stored %+v, want %+v", g, w)
			}
		}
	})

}

func testAuditFilters(t *testing.T, s Stores) {
	{
		in := auditFixture(t, s)
		since := in[0].Time // step 3: steps 3, 4, 5 → 6 events
		cases := []struct {
			name string
			f    storage.AuditFilter
			want func(e storage.AuditEvent) bool
		}{
			{"user", storage.AuditFilter{UserID: "user-1"}, func(e storage.AuditEvent) bool { return e.UserID == "user-1" }},
			{"domain", storage.AuditFilter{Domain: "b.audit.test"}, func(e storage.AuditEvent) bool { return e.Domain == "b.audit.test" }},
			{"event", storage.AuditFilter{Event: "signup"}, func(e storage.AuditEvent) bool { return e.Event == "signup" }},
			{"since", storage.AuditFilter{Since: since}, func(e storage.AuditEvent) bool { return !e.Time.Before(since) }},
			{"combined", storage.AuditFilter{UserID: "user-0", Domain: "a.audit.test", Since: since},
				func(e storage.AuditEvent) bool {
					return e.UserID == "user-0" && e.Domain == "a.audit.test" && !e.Time.Before(since)
				}},
			{"nothing", storage.AuditFilter{UserID: "nobody"}, func(storage.AuditEvent) bool { return false }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				want := 0
				for _, e := range in {
					if c.want(e) {
						want++
					}
				}
				got := listAllEvents(t, s, c.f, 2)
				if len(got) != want {
					t.Fatalf("listed %d events, want %d", len(got), want)
				}
				for _, e := range got {
					if !c.want(e) {
						t.Errorf("event %+v does not match the filter", e)
					}
				}
				checkNewestFirst(t, got)
			})
		}
	}
}

func testAuditPaging(t *testing.T, s Stores) {
	ctx := context.Background()
	{
		in := auditFixture(t, s)
		all := listAllEvents(t, s, storage.AuditFilter{}, 100)
		for _, size := range []int{1, 3, 5, len(in), len(in) + 1} {
			t.Run(fmt.Sprint(size), func(t *testing.T) {
				got := listAllEvents(t, s, storage.AuditFilter{}, size)
				if len(got) != len(all) {
					t.Fatalf("pages of %d hold %d events, want %d", size, len(got), len(all))
				}
				for i := range all {
					if got[i].ID != all[i].ID {
						t.Fatalf("event %d: id %d, want %d (a page skipped or repeated one)", i, got[i].ID, all[i].ID)
					}
				}
			})
		}
		// Appending newer events does not shift a walk already under way.
		first, err := s.Audit.ListAuditEvents(ctx, storage.AuditFilter{Limit: 4})
		recErr(t, "first page", err, nil)
		recErr(t, "append newer", s.Audit.AppendAuditEvents(ctx, []storage.AuditEvent{{Time: s.Clock.Now(), Event: "logout"}}), nil)
		last := first[len(first)-1]
		rest, err := s.Audit.ListAuditEvents(ctx, storage.AuditFilter{Limit: 100, Cursor: storage.AuditCursor{Time: last.Time, ID: last.ID}})
		recErr(t, "next page", err, nil)
		if len(rest) != len(all)-4 || rest[0].ID != all[4].ID {
			t.Fatalf("after an append the next page starts at id %d (%d events), want %d (%d)", rest[0].ID, len(rest), all[4].ID, len(all)-4)
		}
	}
}

func testAuditStamp(t *testing.T, s Stores) {
	ctx := context.Background()
	{
		recErr(t, "append", s.Audit.AppendAuditEvents(ctx, []storage.AuditEvent{{Event: "signup", UserID: "stamped"}}), nil)
		got, err := s.Audit.ListAuditEvents(ctx, storage.AuditFilter{UserID: "stamped"})
		recErr(t, "list", err, nil)
		if len(got) != 1 {
			t.Fatalf("listed %d events, want 1", len(got))
		}
		recTime(t, "Time", got[0].Time, s.Clock.Now())
	}
}

func testAuditPrune(t *testing.T, s Stores) {
	ctx := context.Background()
	{
		in := auditFixture(t, s)
		cutoff := in[0].Time // step 3: steps 0, 1, 2 (6 events) are older
		n, err := s.Audit.PruneAuditEvents(ctx, cutoff)
		recErr(t, "prune", err, nil)
		if n != 6 {
			t.Errorf("pruned %d events, want 6", n)
		}
		left := listAllEvents(t, s, storage.AuditFilter{}, 100)
		if len(left) != 6 {
			t.Fatalf("%d events left, want 6", len(left))
		}
		for _, e := range left {
			if e.Time.Before(cutoff) {
				t.Errorf("event at %v survived a prune before %v", e.Time, cutoff)
			}
		}
		if n, err = s.Audit.PruneAuditEvents(ctx, cutoff); err != nil || n != 0 {
			t.Errorf("second prune: %d, %v; want 0, nil", n, err)
		}
	}
}
