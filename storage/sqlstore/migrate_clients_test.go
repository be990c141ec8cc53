package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/glebarez/go-sqlite" // the raw connection that restores the old schema

	"user-registry/storage"
	"user-registry/storage/sqlstore/sqltest"
)

// TestMigrateAddsClientCreator: a clients table from before /clients
// recorded creators gains the created_by column on Migrate, and its rows
// read back with no creator, so no user can list or delete them.
func TestMigrateAddsClientCreator(t *testing.T) {
	type db struct{ name, driver, raw, dsn string }
	path := filepath.Join(t.TempDir(), "old.db")
	dbs := []db{{"sqlite", "sqlite", path, "sqlite:" + path}}
	if root := os.Getenv("USER_REGISTRY_TEST_MYSQL"); root != "" {
		dsn, name := sqltest.FreshMySQL(t, root)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		pass, _ := u.User.Password()
		raw := fmt.Sprintf("%s:%s@tcp(%s)/%s", u.User.Username(), pass, u.Host, name)
		dbs = append(dbs, db{"mysql", "mysql", raw, dsn})
	}
	// The previous release's clients table is today's without created_by
	// and its index.
	drops := map[string][]string{
		"sqlite": {"DROP INDEX ix_clients_created_by", "ALTER TABLE clients DROP COLUMN created_by"},
		"mysql":  {"ALTER TABLE clients DROP INDEX ix_clients_created_by, DROP COLUMN created_by"},
	}
	for _, d := range dbs {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			old := openMigrated(t, d.dsn, nil)
			c := storage.Client{ID: "old", Domain: "a.example", Name: "old app", GrantTypes: []string{"client_credentials"}}
			if err := old.CreateClient(ctx, &c); err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open(d.driver, d.raw)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			for _, q := range drops[d.name] {
				if _, err := raw.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			s := openMigrated(t, d.dsn, nil)
			got, err := s.Client(ctx, "old")
			if err != nil {
				t.Fatalf("old client after migration: %v", err)
			}
			if got.CreatedBy != "" || got.Domain != "a.example" || got.Name != "old app" {
				t.Fatalf("old client after migration: %+v", got)
			}
			// The new column is written and queried.
			mine := storage.Client{ID: "new", Domain: "a.example", CreatedBy: "u1", GrantTypes: []string{"client_credentials"}}
			if err := s.CreateClient(ctx, &mine); err != nil {
				t.Fatal(err)
			}
			if list, err := s.ListClientsByCreator(ctx, "u1"); err != nil || len(list) != 1 || list[0].ID != "new" {
				t.Fatalf("clients of u1: %+v, %v", list, err)
			}
		})
	}
}
