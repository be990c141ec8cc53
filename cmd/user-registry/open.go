package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"

	"user-registry/keys"
	"user-registry/storage"
	"user-registry/storage/memstore"
	"user-registry/storage/redisstore"
	"user-registry/storage/sqlstore"
)

// ephemeral is the session/revocation/rate state: Redis, or in process.
type ephemeral interface {
	storage.SessionStore
	storage.RefreshStore
	storage.RevocationStore
	storage.NonceStore // DPoP proof jti, accepted once across nodes
	storage.LogoutStore
	storage.MFAChallengeStore
	storage.PasskeyChallengeStore // WebAuthn ceremonies (SPEC §10)
	storage.DeviceStore
	Rate() storage.RateStore
	Ping(ctx context.Context) error
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json")
}

// openDB opens and migrates the database: every subcommand that opens it
// migrates a fresh one itself (SPEC §1).
func openDB(ctx context.Context, c *storeConfig) (*sqlstore.Store, error) {
	db, err := sqlstore.Open(ctx, c.DB)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return db, nil
}

// keySecret resolves the key-encryption key (SEC-10). With SQLite and no
// configured secret, one is generated beside the database file; MySQL
// requires it.
func keySecret(c *storeConfig, log *slog.Logger) ([]byte, error) {
	path, isSQLite := sqlstore.SQLitePath(c.DB)
	if c.KeySecret == "" && !isSQLite {
		if strings.HasPrefix(c.DB, "sqlite:") {
			// sqlite::memory: has no file to keep a secret beside; its keys
			// die with the process anyway.
			secret := make([]byte, 32)
			_, err := rand.Read(secret)
			return secret, err
		}
		return nil, errors.New("--key-secret (or USER_REGISTRY_KEY_SECRET) is required with MySQL")
	}
	secret, created, err := keys.LoadOrCreateSecret(c.KeySecret, path)
	if err != nil {
		return nil, fmt.Errorf("key secret: %w", err)
	}
	if created {
		log.Warn("generated a key-encryption secret beside the database (mode 0600); set --key-secret in production", "file", path+".key")
	}
	return secret, nil
}

// redisLog routes go-redis's internal messages (dial retries) to our
// logger at debug level instead of raw lines on stderr.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}

func openEphemeral(ctx context.Context, c *storeConfig, log *slog.Logger) (ephemeral, error) {
	if c.Redis == "" && c.RedisCluster == "" && c.RedisSentinel == "" {
		return memstore.New(), nil
	}
	redis.SetLogger(redisLog{log})
	st, err := redisstore.Open(ctx, redisstore.Options{
		URL:           c.Redis,
		ClusterAddrs:  splitList(c.RedisCluster),
		SentinelAddrs: splitList(c.RedisSentinel),
		MasterName:    c.RedisMaster,
	})
	if err != nil {
		return nil, fmt.Errorf("open redis: %w", err)
	}
	return st, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// openWithSecret opens the database for an admin command that needs the
// key-encryption secret (keys, clients), with the command's logger. The
// caller closes the store.
func openWithSecret(ctx context.Context, c *storeConfig, e env) (*sqlstore.Store, []byte, *slog.Logger, error) {
	log, err := newLogger(c.LogFormat, e.stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := openDB(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	secret, err := keySecret(c, log)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return db, secret, log, nil
}
