package sqlstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"user-registry/storage"
	"user-registry/storage/sqlstore"
	"user-registry/storage/sqlstore/sqltest"
	"user-registry/storage/storagetest"
)

// openMigrated opens dsn with clock (nil: time.Now), closes it when t
// ends, and migrates it.
func openMigrated(t *testing.T, dsn string, clock *storagetest.Clock) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	var opts []sqlstore.Option
	if clock != nil {
		opts = append(opts, sqlstore.WithNow(clock.Now))
	}
	s, err := sqlstore.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func openSQLite(t *testing.T, path string, clock *storagetest.Clock) *sqlstore.Store {
	t.Helper()
	return openMigrated(t, "sqlite:"+path, clock)
}

func stores(s *sqlstore.Store) storagetest.Stores {
	return storagetest.Stores{Users: s, Domains: s, Clients: s, Keys: s, Audit: s, Federation: s, MFA: s, Passkeys: s}
}

func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, clock *storagetest.Clock) storagetest.Stores {
			return stores(openSQLite(t, filepath.Join(t.TempDir(), "test.db"), clock))
		})
	})
	t.Run("sqlite-memory", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, clock *storagetest.Clock) storagetest.Stores {
			return stores(openMigrated(t, "sqlite::memory:", clock))
		})
	})
	t.Run("mysql", func(t *testing.T) {
		root := os.Getenv("USER_REGISTRY_TEST_MYSQL")
		if root == "" {
			t.Skip("USER_REGISTRY_TEST_MYSQL not set")
		}
		storagetest.Run(t, func(t *testing.T, clock *storagetest.Clock) storagetest.Stores {
			s, _ := openMySQL(t, root, clock)
			return stores(s)
		})
	})
}

// openMySQL creates a database of its own next to the one named by root
// (dropped when t ends), so tests never touch data they did not create.
// It returns the store and the database's name.
func openMySQL(t *testing.T, root string, clock *storagetest.Clock) (*sqlstore.Store, string) {
	t.Helper()
	dsn, name := sqltest.FreshMySQL(t, root)
	return openMigrated(t, dsn, clock), name
}

func TestOpenBadDSN(t *testing.T) {
	cases := []string{
		"",
		"postgres://u@h/db",
		"sqlite:",
		"sqlite:dir/x.db?mode=ro",
		"mysql://",
		"mysql://127.0.0.1:3306/test",     // no user
		"mysql://root@/test",              // no host
		"mysql://root@127.0.0.1:3306",     // no database
		"mysql://root@127.0.0.1:3306/a/b", // two path segments
		"mysql://root@127.0.0.1:3306/test?tls=false",
		"mysql://root:secret@[::1/test",
	}
	for _, dsn := range cases {
		t.Run(dsn, func(t *testing.T) {
			s, err := sqlstore.Open(context.Background(), dsn)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q) succeeded", dsn)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestOpenUnreachableMySQL(t *testing.T) {
	// Port 1 on loopback: nothing listens, the dial is refused at once.
	_, err := sqlstore.Open(context.Background(), "mysql://root@127.0.0.1:1/test")
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestSQLitePath(t *testing.T) {
	cases := []struct {
		dsn, path string
		ok        bool
	}{
		{"sqlite:user-registry.db", "user-registry.db", true},
		{"sqlite:/var/lib/ur/x.db", "/var/lib/ur/x.db", true},
		{"sqlite::memory:", "", false},
		{"sqlite:", "", false},
		{"mysql://root@127.0.0.1:3306/test", "", false},
		{"x.db", "", false},
	}
	for _, c := range cases {
		path, ok := sqlstore.SQLitePath(c.dsn)
		if path != c.path || ok != c.ok {
			t.Errorf("SQLitePath(%q) = %q, %v; want %q, %v", c.dsn, path, ok, c.path, c.ok)
		}
	}
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	s := openSQLite(t, path, nil)
	u := storage.User{ID: "u1", Email: "a@b.example", EmailCanonical: "a@b.example", Domain: "b.example"}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate %d: %v", i, err)
		}
	}
	// A second process starting up migrates the same file again.
	other := openSQLite(t, path, nil)
	if _, err := other.UserByID(ctx, "u1"); err != nil {
		t.Fatalf("data lost by re-migration: %v", err)
	}
	dup := storage.User{ID: "u2", Email: "A@b.example", EmailCanonical: "a@b.example", Domain: "b.example"}
	if err := other.CreateUser(ctx, &dup); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("unique index lost by re-migration: err = %v", err)
	}
}

func TestTwoStoresShareSQLiteFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openSQLite(t, path, nil), openSQLite(t, path, nil)
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

	if err := a.PutDomain(ctx, storage.DomainRecord{Domain: "evil.example", BelongsTo: storage.DomainBlocked, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	ds, err := b.ListDomains(ctx)
	if err != nil || len(ds) != 1 || ds[0].BelongsTo != storage.DomainBlocked {
		t.Fatalf("b sees %+v, %v", ds, err)
	}
	k := storage.SigningKey{KID: "k1", Generation: 1, Alg: "ES256", CreatedAt: at, ActivateAt: at}
	if err := b.CreateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	k2 := storage.SigningKey{KID: "k2", Generation: 1, Alg: "ES256", CreatedAt: at, ActivateAt: at}
	if err := a.CreateKey(ctx, &k2); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a creates a second generation 1: err = %v", err)
	}
	if err := a.DeleteKey(ctx, "k1"); err != nil {
		t.Fatalf("a deletes b's key: %v", err)
	}
	if ks, err := b.ListKeys(ctx); err != nil || len(ks) != 0 {
		t.Fatalf("b still lists %+v, %v", ks, err)
	}
	// Write-ahead logging is on (readers do not block the writer).
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no WAL file beside the database: %v", err)
	}
}

func TestPingAfterClose(t *testing.T) {
	s, err := sqlstore.Open(context.Background(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	_ = s.Close()
	if err := s.Ping(context.Background()); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("ping after close: err = %v, want ErrUnavailable", err)
	}
}

// TestQueriesAfterClose: a closed pool (shutdown, or a store closed under a
// running request) is "database unavailable", not an unclassified error.
func TestQueriesAfterClose(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t, filepath.Join(t.TempDir(), "closed.db"), nil)
	_ = s.Close()
	if _, err := s.ListDomains(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("list after close: err = %v, want ErrUnavailable", err)
	}
	if _, err := s.UserByEmail(ctx, "a@b.example"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("lookup after close: err = %v, want ErrUnavailable", err)
	}
	u := &storage.User{ID: "u1", Email: "a@b.example", EmailCanonical: "a@b.example", Domain: "b.example"}
	if err := s.CreateUser(ctx, u); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("create after close: err = %v, want ErrUnavailable", err)
	}
}

// TestConcurrentMigrate plays several processes starting on one new
// database at once: every Migrate must succeed.
func TestConcurrentMigrate(t *testing.T) {
	targets := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "c.db") }},
		{"mysql", func(t *testing.T) string {
			root := os.Getenv("USER_REGISTRY_TEST_MYSQL")
			if root == "" {
				t.Skip("USER_REGISTRY_TEST_MYSQL not set")
			}
			dsn, _ := sqltest.FreshMySQL(t, root)
			return dsn
		}},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			dsn := tg.dsn(t)
			const n = 4
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := sqlstore.Open(context.Background(), dsn)
					if err != nil {
						errs[i] = err
						return
					}
					defer s.Close()
					errs[i] = s.Migrate(context.Background())
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("process %d: %v", i, err)
				}
			}
		})
	}
}
