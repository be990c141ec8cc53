package sqlstore_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"testing"

	"user-registry/storage"
	"user-registry/storage/sqlstore"
	"user-registry/storage/storagetest"
)

// TestMySQLRestart checks SEC-44: while the database is away calls fail
// with ErrUnavailable, and once it is back the same Store works again.
func TestMySQLRestart(t *testing.T) {
	root := os.Getenv("USER_REGISTRY_TEST_MYSQL")
	if root == "" {
		t.Skip("USER_REGISTRY_TEST_MYSQL not set")
	}
	ctx := context.Background()
	// A database of our own, migrated, dropped at the end.
	_, name := openMySQL(t, root, nil)

	u, err := url.Parse(root)
	if err != nil {
		t.Fatal(err)
	}
	p := storagetest.StartProxy(t, u.Host)
	u.Host = p.Addr()
	u.Path = "/" + name
	s, err := sqlstore.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("open through proxy: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	put := func(domain string) error {
		return s.PutDomain(ctx, storage.DomainRecord{Domain: domain, BelongsTo: storage.DomainBlocked})
	}
	if err := put("before.example"); err != nil {
		t.Fatalf("before outage: %v", err)
	}

	p.Down()
	if err := s.Ping(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("ping during outage: err = %v, want ErrUnavailable", err)
	}
	if _, err := s.ListDomains(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("list during outage: err = %v, want ErrUnavailable", err)
	}

	p.Up()
	if err := put("after.example"); err != nil {
		t.Fatalf("after outage: %v", err)
	}
	ds, err := s.ListDomains(ctx)
	if err != nil || len(ds) != 2 {
		t.Fatalf("after outage: %+v, %v", ds, err)
	}
}
