package storagetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"user-registry/storage"
)

// recDomains returns the records whose domain ends in suffix, so a subtest
// only looks at its own rows.
func recDomains(t *testing.T, s Stores, suffix string) []storage.DomainRecord {
	t.Helper()
	all, err := s.Domains.ListDomains(context.Background())
	recErr(t, "list domains", err, nil)
	var out []storage.DomainRecord
	for _, r := range all {
		if strings.HasSuffix(r.Domain, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func testDomains(t *testing.T, s Stores) {
	ctx := context.Background()
	now := s.Clock.Now()

	t.Run("list-ordered", func(t *testing.T) {
		all, err := s.Domains.ListDomains(ctx)
		recErr(t, "list empty", err, nil)
		if len(all) != 0 {
			t.Fatalf("fresh store lists %d domains, want 0", len(all))
		}
		// Inserted out of order; listed by domain.
		in := []storage.DomainRecord{
			{Domain: "zeta.list.test", BelongsTo: storage.DomainAllowed, UpdatedAt: now},
			{Domain: "alpha.list.test", BelongsTo: storage.DomainBlocked, UpdatedAt: now.Add(time.Second)},
			{Domain: "mid.list.test", BelongsTo: storage.DomainAllowed, UpdatedAt: now.Add(2 * time.Second)},
			{Domain: "sub.alpha.list.test", BelongsTo: storage.DomainAllowed, UpdatedAt: now.Add(3 * time.Second)},
		}
		for _, r := range in {
			recErr(t, "put "+r.Domain, s.Domains.PutDomain(ctx, r), nil)
		}
		got := recDomains(t, s, ".list.test")
		want := []storage.DomainRecord{in[1], in[2], in[3], in[0]}
		if len(got) != len(want) {
			t.Fatalf("listed %d records, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i].Domain != want[i].Domain || got[i].BelongsTo != want[i].BelongsTo {
				t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
			}
			recTime(t, want[i].Domain+" UpdatedAt", got[i].UpdatedAt, want[i].UpdatedAt)
		}
	})

	t.Run("replace", func(t *testing.T) {
		steps := []struct {
			name      string
			belongsTo int
		}{
			{"create allowed", storage.DomainAllowed},
			{"block", storage.DomainBlocked},
			{"block again", storage.DomainBlocked},
			{"allow", storage.DomainAllowed},
		}
		for i, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				at := now.Add(time.Duration(i) * time.Hour)
				r := storage.DomainRecord{Domain: "evil.replace.test", BelongsTo: st.belongsTo, UpdatedAt: at}
				recErr(t, "put", s.Domains.PutDomain(ctx, r), nil)
				got := recDomains(t, s, ".replace.test")
				if len(got) != 1 || got[0].Domain != r.Domain || got[0].BelongsTo != st.belongsTo {
					t.Fatalf("after put: %+v, want exactly %+v", got, r)
				}
				recTime(t, "UpdatedAt", got[0].UpdatedAt, at)
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		keep := storage.DomainRecord{Domain: "keep.delete.test", BelongsTo: storage.DomainBlocked, UpdatedAt: now}
		gone := storage.DomainRecord{Domain: "gone.delete.test", BelongsTo: storage.DomainBlocked, UpdatedAt: now}
		recErr(t, "put keep", s.Domains.PutDomain(ctx, keep), nil)
		recErr(t, "put gone", s.Domains.PutDomain(ctx, gone), nil)

		cases := []struct {
			domain string
			want   error
		}{
			{"gone.delete.test", nil},
			{"gone.delete.test", storage.ErrNotFound},
			{"never.delete.test", storage.ErrNotFound},
			{"", storage.ErrNotFound},
		}
		for _, c := range cases {
			recErr(t, "delete "+c.domain, s.Domains.DeleteDomain(ctx, c.domain), c.want)
		}
		got := recDomains(t, s, ".delete.test")
		if len(got) != 1 || got[0].Domain != keep.Domain {
			t.Fatalf("after delete: %+v, want only %s", got, keep.Domain)
		}
	})
}
