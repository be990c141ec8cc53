package sqlstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

const (
	sqlitePrefix = "sqlite:"
	sqliteMemory = "sqlite::memory:"
	mysqlPrefix  = "mysql://"
)

// errBadDSN is wrapped by every DSN parsing error.
var errBadDSN = errors.New("sqlstore: bad database DSN")

// SQLitePath returns the file path of a "sqlite:PATH" DSN. ok is false for
// "sqlite::memory:", MySQL and anything else, so callers (who keep files
// such as a generated key beside the database) know there is no file.
func SQLitePath(dsn string) (path string, ok bool) {
	if dsn == sqliteMemory || !strings.HasPrefix(dsn, sqlitePrefix) {
		return "", false
	}
	path = strings.TrimPrefix(dsn, sqlitePrefix)
	if path == "" {
		return "", false
	}
	return path, true
}

// sqliteDriverDSN builds the glebarez/go-sqlite DSN for a file.
// busy_timeout makes a writer wait for another process's lock instead of
// failing at once; _txlock=immediate takes the write lock at BEGIN, which
// avoids the deadlock a deferred transaction hits when it upgrades from
// reading to writing. WAL mode is set once by Open (see enableWAL).
func sqliteDriverDSN(path string) (string, error) {
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return "", fmt.Errorf("%w: sqlite path %q must not contain '?' or '#' or start with \"file\"", errBadDSN, path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode(), nil
}

// mysqlDriverDSN translates mysql://USER[:PASS]@HOST:PORT/DB into a
// go-sql-driver DSN. Times are read and written in UTC; ClientFoundRows
// makes an UPDATE that changes nothing still report the matched row, so
// "not found" can be told apart from "unchanged".
func mysqlDriverDSN(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// url's message may repeat the DSN, password included; keep it out.
		return "", fmt.Errorf("%w: cannot parse mysql URL", errBadDSN)
	}
	if u.User == nil || u.User.Username() == "" {
		return "", fmt.Errorf("%w: mysql URL needs a user (mysql://USER[:PASS]@HOST:PORT/DB)", errBadDSN)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%w: mysql URL needs HOST:PORT", errBadDSN)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return "", fmt.Errorf("%w: mysql URL needs exactly one database name", errBadDSN)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: mysql URL takes no query or fragment", errBadDSN)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "3306"
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.DBName = db
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_bin"
	// The handshake collation also sets the utf8mb4 character set.
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	cfg.ClientFoundRows = true
	cfg.Timeout = 5 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	return cfg.FormatDSN(), nil
}
