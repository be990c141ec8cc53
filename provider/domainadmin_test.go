package provider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// TestDomainAdmin: Put and Remove normalize and validate, and a change is
// honoured at once by the policy of this process, though its cache (on a
// clock that does not move) is far from its TTL.
func TestDomainAdmin(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	policy := provider.NewDomainPolicy(store, false, func() time.Time { return now })
	admin := &provider.DomainAdmin{Store: store, Policy: policy}
	blocked := func(d string) bool {
		t.Helper()
		b, err := policy.Blocked(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	for _, tc := range []struct {
		name, domain string
		belongsTo    int
		want         string // normalized domain; "" = refused
		wantErr      error
	}{
		{"block", "EVIL.com.", storage.DomainBlocked, "evil.com", nil},
		{"allow a subdomain", " a.Evil.COM ", storage.DomainAllowed, "a.evil.com", nil},
		{"idn", "bücher.example", storage.DomainBlocked, "xn--bcher-kva.example", nil},
		{"not a domain", "not a domain", storage.DomainBlocked, "", provider.ErrInvalidInput},
		{"no dot", "localhost", storage.DomainBlocked, "", provider.ErrInvalidInput},
		{"belongs_to 2", "ok.example", 2, "", provider.ErrBadBelongsTo},
		{"belongs_to -1", "ok.example", -1, "", provider.ErrBadBelongsTo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each change flips the policy's answer, and the first call
			// here loads the cache the change must not wait for.
			if tc.want != "" && blocked(tc.want) == (tc.belongsTo == storage.DomainBlocked) {
				t.Fatalf("%s already answers as the change would make it", tc.want)
			}
			got, err := admin.Put(ctx, tc.domain, tc.belongsTo, false)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || provider.Message(err) == "" {
					t.Fatalf("Put(%q, %d) = %v, want %v with a message", tc.domain, tc.belongsTo, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != (provider.DomainEntry{Domain: tc.want, BelongsTo: tc.belongsTo}) {
				t.Fatalf("Put(%q) = %+v, %v", tc.domain, got, err)
			}
			if blocked(tc.want) != (tc.belongsTo == storage.DomainBlocked) {
				t.Fatalf("policy does not show the change to %s yet", tc.want)
			}
		})
	}

	page, err := admin.Page(ctx, "", "", 0)
	want := []provider.DomainEntry{{"a.evil.com", 0, false}, {"evil.com", 1, false}, {"xn--bcher-kva.example", 1, false}}
	if err != nil || len(page.Domains) != len(want) || page.NextCursor != "" {
		t.Fatalf("Page = %+v, %v", page, err)
	}
	for i := range want {
		if page.Domains[i] != want[i] {
			t.Fatalf("Page = %+v, want %+v", page.Domains, want)
		}
	}

	if d, err := admin.Remove(ctx, "Evil.COM."); err != nil || d != "evil.com" || blocked("mail.evil.com") {
		t.Fatalf("Remove = %q, %v; mail.evil.com still blocked: %v", d, err, blocked("mail.evil.com"))
	}
	if _, err := admin.Remove(ctx, "evil.com"); !errors.Is(err, provider.ErrNoDomainRecord) {
		t.Fatalf("second Remove = %v, want ErrNoDomainRecord", err)
	}
	if _, err := admin.Remove(ctx, "-bad-"); !errors.Is(err, provider.ErrInvalidInput) {
		t.Fatalf("Remove of a bad name = %v", err)
	}
	if page, err := (&provider.DomainAdmin{Store: memstore.New()}).Page(ctx, "", "", 0); err != nil || page.Domains == nil {
		t.Fatalf("empty Page = %#v, %v; want an empty, non-nil list", page, err)
	}
}
