package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"user-registry/storage"
)

// SQLite result codes (see sqlite3.h) and MySQL/MariaDB error numbers this
// package reacts to.
const (
	sqliteBusy                 = 5
	sqliteLocked               = 6
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067

	mysqlDupEntry          = 1062
	mysqlTooManyConns      = 1040
	mysqlServerShutdown    = 1053
	mysqlLockWaitTimeout   = 1205
	mysqlDeadlock          = 1213
	mysqlReadOnly          = 1290
	mysqlConnectionKilled  = 1927
	mysqlFirstClientErrNum = 2000 // 2000-2999 are client-side (connection) errors
)

// classify maps a database error to the storage sentinels: a unique index
// violation becomes storage.ErrExists, a missing row storage.ErrNotFound,
// and a failure to reach the database wraps storage.ErrUnavailable. Other
// errors are returned unchanged.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return storage.ErrNotFound
	case isDuplicate(err):
		return storage.ErrExists
	case isUnavailable(err):
		return unavailable(err)
	}
	return err
}

// unavailable wraps err with storage.ErrUnavailable, keeping err's message.
func unavailable(err error) error {
	if errors.Is(err, storage.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
}

func isDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == mysqlDupEntry
	}
	var se *gosqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqliteConstraintUnique || c == sqliteConstraintPrimaryKey
	}
	return false
}

// isUnavailable reports errors that say "the database did not answer" as
// opposed to "the database refused this statement": the web layer answers
// 503 for the first kind and the request may be retried.
func isUnavailable(err error) bool {
	var (
		me *mysql.MySQLError
		se *gosqlite.Error
		ne net.Error
	)
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		isDBClosed(err),
		errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne):
		return true
	case errors.As(err, &me):
		switch me.Number {
		case mysqlTooManyConns, mysqlServerShutdown, mysqlLockWaitTimeout,
			mysqlDeadlock, mysqlReadOnly, mysqlConnectionKilled:
			return true
		}
		return me.Number >= mysqlFirstClientErrNum && me.Number < 3000
	case errors.As(err, &se):
		c := se.Code() & 0xff // primary result code
		return c == sqliteBusy || c == sqliteLocked
	}
	return false
}

// errDBClosedText is the message of database/sql's unexported errDBClosed,
// returned by every query on a closed *sql.DB (e.g. during shutdown).
const errDBClosedText = "sql: database is closed"

func isDBClosed(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == errDBClosedText {
			return true
		}
	}
	return false
}
