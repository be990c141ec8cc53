package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"user-registry/storage"
)

var (
	_ storage.UserStore   = (*Store)(nil)
	_ storage.DomainStore = (*Store)(nil)
	_ storage.ClientStore = (*Store)(nil)
	_ storage.KeyStore    = (*Store)(nil)
	_ storage.Pinger      = (*Store)(nil)
)

// Store is a SQL-backed UserStore, DomainStore, ClientStore and KeyStore.
// It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	isMySQL bool
	now     func() time.Time
}

// Option configures Open.
type Option func(*options)

type options struct {
	now          func() time.Time
	maxOpenConns int
}

// WithNow sets the clock used to fill zero timestamps (a user's CreatedAt,
// a domain record's UpdatedAt). nil means time.Now.
func WithNow(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithMaxOpenConns caps the connection pool (MySQL and SQLite files; an
// in-memory SQLite database always uses one connection).
func WithMaxOpenConns(n int) Option {
	return func(o *options) { o.maxOpenConns = n }
}

// Open connects to the database named by dsn ("sqlite:PATH",
// "sqlite::memory:" or "mysql://USER[:PASS]@HOST:PORT/DB"). It does not
// create tables; call Migrate. A malformed DSN gives an error naming the
// expected form; a database that cannot be reached wraps
// storage.ErrUnavailable.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, maxOpenConns: 20}
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	cfg := &gorm.Config{
		// Quiet: GORM's SQL log would include bound values (hashes).
		Logger: logger.Discard,
		// Each write is a single statement; GORM's implicit transaction
		// would only add round trips (and lock upgrades on SQLite).
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return o.now().UTC() },
		PrepareStmt:            false,
	}

	var (
		dialector gorm.Dialector
		isMySQL   bool
		memory    bool
	)
	switch {
	case dsn == sqliteMemory:
		// One connection, never recycled: each connection to ":memory:" is
		// its own database, and closing it would lose the data.
		dialector = sqlite.Open(":memory:?_pragma=foreign_keys(1)")
		memory = true
	case strings.HasPrefix(dsn, sqlitePrefix):
		path, ok := SQLitePath(dsn)
		if !ok {
			return nil, fmt.Errorf("%w: want sqlite:PATH or sqlite::memory: as the DSN", errBadDSN)
		}
		d, err := sqliteDriverDSN(path)
		if err != nil {
			return nil, err
		}
		dialector = sqlite.Open(d)
	case strings.HasPrefix(dsn, mysqlPrefix):
		d, err := mysqlDriverDSN(dsn)
		if err != nil {
			return nil, err
		}
		dialector = gormmysql.New(gormmysql.Config{DSN: d})
		isMySQL = true
	default:
		return nil, fmt.Errorf("%w: want sqlite:PATH, sqlite::memory: or mysql://USER[:PASS]@HOST:PORT/DB", errBadDSN)
	}

	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open: %w", classify(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open: %w", err)
	}
	switch {
	case memory:
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	default:
		sqlDB.SetMaxOpenConns(o.maxOpenConns)
		sqlDB.SetMaxIdleConns(o.maxOpenConns / 2)
		// Recycle connections so a restarted or failed-over MySQL server
		// is picked up without restarting this process.
		sqlDB.SetConnMaxLifetime(3 * time.Minute)
		sqlDB.SetConnMaxIdleTime(time.Minute)
	}
	s := &Store{db: db, sqlDB: sqlDB, isMySQL: isMySQL, now: o.now}
	if !isMySQL && !memory {
		if err := s.enableWAL(ctx); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// Migrate creates or updates the tables and indexes. It is idempotent and
// safe to run from several processes starting at once (the last one finds
// nothing to do).
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if s.isMySQL {
		// Binary collation: ids, kids and canonical emails compare
		// exactly, as in every other backend.
		db = db.Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	}
	models := []any{&userRow{}, &domainRow{}, &clientRow{}, &keyRow{}, &auditRow{}, &trustRow{}, &totpRow{}, &recoveryRow{}, &passkeyRow{}}
	// AutoMigrate checks for a table, then creates it: a process starting
	// at the same moment may create it in between ("already exists"). Each
	// such failure means one more table now exists, so a bounded number of
	// passes always finishes.
	var err error
	for range len(models) + 1 {
		if err = db.AutoMigrate(models...); err == nil || isUnavailable(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", classify(err))
	}
	return nil
}

// Ping checks that the database answers. Returns an error wrapping
// storage.ErrUnavailable when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", unavailable(err))
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	return s.sqlDB.Close()
}

// stamp returns t in UTC at microsecond precision (what MySQL DATETIME(6)
// keeps), or now when t is zero.
func (s *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// enableWAL switches a SQLite file to write-ahead logging, so readers in
// other processes proceed while one writes. The mode is stored in the file;
// switching needs an exclusive lock and SQLite reports SQLITE_BUSY without
// waiting when several processes open a new file at once, so it is retried
// for a bounded time.
func (s *Store) enableWAL(ctx context.Context) error {
	const attempts = 100
	var err error
	for i := range attempts {
		var mode string
		err = s.db.WithContext(ctx).Raw("PRAGMA journal_mode=WAL").Scan(&mode).Error
		if err == nil || !isUnavailable(err) || i == attempts-1 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlstore: enable WAL: %w", unavailable(ctx.Err()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: enable WAL: %w", classify(err))
	}
	return nil
}
