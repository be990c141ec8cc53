package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"

	_ "github.com/go-sql-driver/mysql" // the admin connection below
)

// FreshMySQL creates an empty database on the server named by root (a
// mysql://USER[:PASS]@HOST:PORT/DB URL, as USER_REGISTRY_TEST_MYSQL), drops
// it when t ends, and returns the URL of the new database and its name.
func FreshMySQL(t testing.TB, root string) (dsn, name string) {
	t.Helper()
	u, err := url.Parse(root)
	if err != nil || u.Scheme != "mysql" || u.Host == "" {
		t.Fatalf("sqltest: bad MySQL URL %q", root)
	}
	pass, _ := u.User.Password()
	admin, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", u.User.Username(), pass, u.Host))
	if err != nil {
		t.Fatalf("sqltest: open admin connection: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	// Hex from crypto/rand: safe in DDL, which cannot bind an identifier.
	name = "ur_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("sqltest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name); err != nil {
			t.Errorf("sqltest: drop %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String(), name
}
