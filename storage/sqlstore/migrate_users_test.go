package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"user-registry/storage"
	"user-registry/storage/sqlstore/sqltest"
)

// TestMigrateAddsUserAdminColumns: a users table from before SPEC §13
// (no disabled, no last_login_at, no list indexes) gains them on Migrate;
// its rows read back enabled and never signed in, and can be listed,
// disabled and stamped.
func TestMigrateAddsUserAdminColumns(t *testing.T) {
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
	drops := map[string][]string{
		"sqlite": {"DROP INDEX ix_users_created", "DROP INDEX ix_users_domain_created",
			"ALTER TABLE users DROP COLUMN disabled", "ALTER TABLE users DROP COLUMN last_login_at"},
		"mysql": {"ALTER TABLE users DROP INDEX ix_users_created, DROP INDEX ix_users_domain_created, " +
			"DROP COLUMN disabled, DROP COLUMN last_login_at"},
	}
	for _, d := range dbs {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			old := openMigrated(t, d.dsn, nil)
			created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			u := storage.User{ID: "00000000-0000-4000-8000-000000000001", Email: "old@a.example",
				EmailCanonical: "old@a.example", Domain: "a.example", PasswordHash: "x", CreatedAt: created, UpdatedAt: created}
			if err := old.CreateUser(ctx, &u); err != nil {
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
			got, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatalf("old user after migration: %v", err)
			}
			if got.Disabled || got.LastLoginAt != nil || got.Email != u.Email {
				t.Fatalf("old user after migration: %+v", got)
			}
			seen := created.Add(time.Hour)
			if err := s.UpdateUser(ctx, u.ID, storage.UserChange{Disabled: new(true), LastLoginAt: &seen}); err != nil {
				t.Fatal(err)
			}
			list, err := s.ListUsers(ctx, storage.UserFilter{Domain: "a.example", Limit: 10})
			if err != nil || len(list) != 1 || !list[0].Disabled || list[0].LastLoginAt == nil || !list[0].LastLoginAt.Equal(seen) {
				t.Fatalf("list after migration: %+v, %v", list, err)
			}
		})
	}
}
