package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"user-registry/storage"
	"user-registry/storage/sqlstore/sqltest"
)

// TestMigrateAddsRequirePAR: a clients table from before --require-par
// gains the column on Migrate; its rows read back as not requiring PAR,
// and a new client's flag is kept.
func TestMigrateAddsRequirePAR(t *testing.T) {
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
		dbs = append(dbs, db{"mysql", "mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s", u.User.Username(), pass, u.Host, name), dsn})
	}
	for _, d := range dbs {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			old := openMigrated(t, d.dsn, nil)
			c := storage.Client{ID: "old", Domain: "a.example", GrantTypes: []string{"authorization_code"}}
			if err := old.CreateClient(ctx, &c); err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open(d.driver, d.raw)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.ExecContext(ctx, "ALTER TABLE clients DROP COLUMN require_par"); err != nil {
				t.Fatal(err)
			}
			s := openMigrated(t, d.dsn, nil)
			if got, err := s.Client(ctx, "old"); err != nil || got.RequirePAR {
				t.Fatalf("old client after migration: %+v, %v", got, err)
			}
			par := storage.Client{ID: "par", Domain: "a.example", GrantTypes: []string{"authorization_code"}, RequirePAR: true}
			if err := s.CreateClient(ctx, &par); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Client(ctx, "par"); err != nil || !got.RequirePAR {
				t.Fatalf("new client: %+v, %v", got, err)
			}
		})
	}
}
