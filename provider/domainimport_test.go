package provider_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// failingImport is a store whose ImportDomains fails, to show Import
// reports the error rather than a partial result.
type failingImport struct{ *memstore.Store }

var errDiskFull = errors.New("disk full")

func (failingImport) ImportDomains(context.Context, []storage.DomainRecord) (storage.DomainImport, error) {
	return storage.DomainImport{}, errDiskFull
}

// TestDomainAdminImport: comments, blank lines, normalization, duplicates,
// bad lines with their numbers (SEC-72), and the policy of this process
// seeing the import at once.
func TestDomainAdminImport(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	policy := provider.NewDomainPolicy(store, false, func() time.Time { return now })
	admin := &provider.DomainAdmin{Store: store, Policy: policy}
	if err := store.PutDomain(ctx, storage.DomainRecord{Domain: "known.example", BelongsTo: storage.DomainBlocked}); err != nil {
		t.Fatal(err)
	}
	if err := store.PutDomain(ctx, storage.DomainRecord{Domain: "flip.example", BelongsTo: storage.DomainAllowed}); err != nil {
		t.Fatal(err)
	}
	if b, _ := policy.Blocked(ctx, "mail.evil.example"); b {
		t.Fatal("blocked before the import")
	}
	in := strings.Join([]string{
		"# a list of spam domains", // 1
		"",                         // 2
		"EVIL.example.",            // 3
		"  evil.example  # again, spelled another way", // 4: duplicate
		"bücher.example",                 // 5
		"not a domain",                   // 6: bad
		"known.example",                  // 7: present already
		"flip.example\r",                 // 8: allowed before, blocked now
		"\x00\x01\xff binary",            // 9: bad
		strings.Repeat("a", 5000),        // 10: bad, too long
		"# " + strings.Repeat("b", 5000), // 11: a long comment
		"localhost",                      // 12: bad, no dot
		"last.example",                   // 13, no newline at the end
	}, "\n")
	var bad []string
	res, err := admin.Import(ctx, strings.NewReader(in), storage.DomainBlocked, func(line int, text, reason string) {
		if len(text) > 90 {
			t.Errorf("line %d reported with %d bytes of text", line, len(text))
		}
		bad = append(bad, fmt.Sprintf("%d %s", line, reason))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := provider.DomainImportResult{Lines: 13, Imported: 4, Present: 1, Duplicates: 1, Bad: 4}
	if res != want {
		t.Fatalf("Import = %+v, want %+v", res, want)
	}
	wantBad := []string{"6 Please provide a valid domain", "9 Please provide a valid domain", "10 line too long", "12 Please provide a valid domain"}
	if fmt.Sprint(bad) != fmt.Sprint(wantBad) {
		t.Fatalf("bad lines %q, want %q", bad, wantBad)
	}
	var exported strings.Builder
	if n, err := admin.Export(ctx, &exported, storage.DomainBlocked); err != nil || n != 5 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	if got := exported.String(); got != "evil.example\nflip.example\nknown.example\nlast.example\nxn--bcher-kva.example\n" {
		t.Fatalf("exported %q", got)
	}
	if b, _ := policy.Blocked(ctx, "mail.evil.example"); !b {
		t.Fatal("import not seen at once by this process's policy")
	}

	// Importing the export again changes nothing.
	res, err = admin.Import(ctx, strings.NewReader(exported.String()), storage.DomainBlocked, nil)
	if err != nil || res != (provider.DomainImportResult{Lines: 5, Present: 5}) {
		t.Fatalf("re-import = %+v, %v", res, err)
	}
	// An allow list: the allowed records only.
	if _, err := admin.Import(ctx, strings.NewReader("ok.example\n"), storage.DomainAllowed, nil); err != nil {
		t.Fatal(err)
	}
	exported.Reset()
	if n, err := admin.Export(ctx, &exported, storage.DomainAllowed); err != nil || n != 1 || exported.String() != "ok.example\n" {
		t.Fatalf("allow export = %d %q %v", n, exported.String(), err)
	}
	if _, err := admin.Import(ctx, strings.NewReader("x.example\n"), 2, nil); !errors.Is(err, provider.ErrBadBelongsTo) {
		t.Fatalf("belongs_to 2: %v", err)
	}
}

// TestDomainAdminImportStoreFails: a store error is the import's error,
// with no counts (SEC-72: the store writes all or nothing).
func TestDomainAdminImportStoreFails(t *testing.T) {
	admin := &provider.DomainAdmin{Store: failingImport{memstore.New()}}
	res, err := admin.Import(context.Background(), strings.NewReader("evil.example\n"), storage.DomainBlocked, nil)
	if !errors.Is(err, errDiskFull) || res != (provider.DomainImportResult{}) {
		t.Fatalf("Import = %+v, %v; want the store's error", res, err)
	}
}

// TestDomainAdminPage: limits, cursors and the search text.
func TestDomainAdminPage(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	admin := &provider.DomainAdmin{Store: store}
	var list strings.Builder
	for i := range 250 {
		fmt.Fprintf(&list, "d%03d.example\n", i)
	}
	list.WriteString("xn--bcher-kva.example\n")
	if _, err := admin.Import(ctx, strings.NewReader(list.String()), storage.DomainBlocked, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor, pages := "", 0
	for {
		page, err := admin.Page(ctx, "", cursor, 0)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range page.Domains {
			got = append(got, d.Domain)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if pages != 3 || len(got) != 251 || got[0] != "d000.example" || got[250] != "xn--bcher-kva.example" {
		t.Fatalf("%d pages, %d domains", pages, len(got))
	}
	// Exactly one full page: no cursor to an empty one.
	if page, err := admin.Page(ctx, "d1", "", 100); err != nil || len(page.Domains) != 100 || page.NextCursor != "" {
		t.Fatalf("q=d1: %d domains, cursor %q, %v", len(page.Domains), page.NextCursor, err)
	}
	if page, err := admin.Page(ctx, "BÜCHER", "", 10); err != nil || len(page.Domains) != 1 {
		t.Fatalf("q=BÜCHER: %+v, %v", page, err)
	}
	for _, tc := range []struct {
		name, q, cursor string
		limit           int
		want            error
	}{
		{"limit over 500", "", "", 501, provider.ErrBadDomainLimit},
		{"negative limit", "", "", -1, provider.ErrBadDomainLimit},
		{"cursor not base64url", "", "%%%", 10, provider.ErrBadDomainCursor},
		{"cursor of a non-domain", "", "PHNjcmlwdD4", 10, provider.ErrBadDomainCursor},
		{"q longer than any domain", strings.Repeat("a", 1100), "", 10, provider.ErrBadDomainQuery},
	} {
		if _, err := admin.Page(ctx, tc.q, tc.cursor, tc.limit); !errors.Is(err, tc.want) || !errors.Is(err, provider.ErrInvalidInput) {
			t.Errorf("%s: %v, want %v (invalid input)", tc.name, err, tc.want)
		}
	}
}
