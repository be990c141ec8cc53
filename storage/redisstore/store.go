package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	redisrate "github.com/ulule/limiter/v3/drivers/store/redis"

	"user-registry/storage"
)

// Compile-time checks of the interfaces Store implements.
var (
	_ storage.SessionStore    = (*Store)(nil)
	_ storage.RefreshStore    = (*Store)(nil)
	_ storage.RevocationStore = (*Store)(nil)
	_ storage.NonceStore      = (*Store)(nil)
	_ storage.Pinger          = (*Store)(nil)
)

// Timeouts are short on purpose: when Redis is down, requests that need it
// must answer 503 promptly instead of hanging on connects and retries.
const (
	dialTimeout = time.Second
	ioTimeout   = time.Second
	poolTimeout = 2 * time.Second
	maxRetries  = 1
)

// DefaultPrefix is prepended to every key when Options.Prefix is empty.
const DefaultPrefix = "ur:"

// Options say how to reach Redis.
//
// With ClusterAddrs set, a Cluster client is built; with SentinelAddrs set, a
// Sentinel failover client for MasterName; otherwise URL
// (redis://[:PASS@]HOST:PORT/N or rediss://...) names a single node. When
// URL is given together with Cluster or Sentinel addresses, its credentials,
// TLS setting and (for Sentinel) database number are used.
type Options struct {
	URL           string
	ClusterAddrs  []string
	SentinelAddrs []string
	MasterName    string
	Prefix        string           // "" → DefaultPrefix
	Now           func() time.Time // nil → time.Now; decides validity of items
}

// Store is the Redis backend. It is safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
	rate   storage.RateStore
}

// Open connects to Redis and checks it answers. A bad address or an
// unreachable server gives an error wrapping storage.ErrUnavailable.
func Open(ctx context.Context, o Options) (*Store, error) {
	client, err := newClient(o)
	if err != nil {
		return nil, fmt.Errorf("%w: redis: %w", storage.ErrUnavailable, err)
	}
	s := &Store{client: client, prefix: o.Prefix, now: o.Now}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.Ping(ctx); err != nil {
		_ = client.Close()
		return nil, err
	}
	// The limiter store preloads its scripts, so it needs a live server.
	rate, err := redisrate.NewStoreWithOptions(client, limiter.StoreOptions{Prefix: s.prefix + "rate"})
	if err != nil {
		_ = client.Close()
		return nil, wrap(err)
	}
	s.rate = rateStore{rate}
	return s, nil
}

// newClient builds the go-redis client the options describe.
func newClient(o Options) (redis.UniversalClient, error) {
	var base *redis.Options
	if o.URL != "" {
		var err error
		if base, err = redis.ParseURL(o.URL); err != nil {
			// url.Error quotes the whole URL, password included.
			if ue := (*url.Error)(nil); errors.As(err, &ue) {
				return nil, fmt.Errorf("bad Redis URL: %w", ue.Err)
			}
			return nil, err
		}
	} else if len(o.ClusterAddrs) == 0 && len(o.SentinelAddrs) == 0 {
		return nil, errors.New("no URL, Cluster or Sentinel addresses")
	} else {
		base = &redis.Options{}
	}
	switch {
	case len(o.ClusterAddrs) > 0:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:    o.ClusterAddrs,
			Username: base.Username, Password: base.Password, TLSConfig: base.TLSConfig,
			DialTimeout: dialTimeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout,
			PoolTimeout: poolTimeout, MaxRetries: maxRetries,
		}), nil
	case len(o.SentinelAddrs) > 0:
		if o.MasterName == "" {
			return nil, errors.New("sentinel addresses given without a master name")
		}
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: o.MasterName, SentinelAddrs: o.SentinelAddrs,
			Username: base.Username, Password: base.Password, TLSConfig: base.TLSConfig, DB: base.DB,
			DialTimeout: dialTimeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout,
			PoolTimeout: poolTimeout, MaxRetries: maxRetries,
		}), nil
	}
	// URL query parameters (dial_timeout=...) win over our defaults.
	if base.DialTimeout == 0 {
		base.DialTimeout = dialTimeout
	}
	if base.ReadTimeout == 0 {
		base.ReadTimeout = ioTimeout
	}
	if base.WriteTimeout == 0 {
		base.WriteTimeout = ioTimeout
	}
	if base.PoolTimeout == 0 {
		base.PoolTimeout = poolTimeout
	}
	if base.MaxRetries == 0 {
		base.MaxRetries = maxRetries
	}
	return redis.NewClient(base), nil
}

// Ping reports whether Redis answers; the error wraps
// storage.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	return wrap(s.client.Ping(ctx).Err())
}

// Close releases the connections.
func (s *Store) Close() error { return s.client.Close() }

// Rate returns the rate-limit counter store, shared by every node using this
// Redis. Its errors wrap storage.ErrUnavailable.
func (s *Store) Rate() storage.RateStore { return s.rate }

// wrap maps go-redis errors to storage sentinels: redis.Nil (no such key)
// is storage.ErrNotFound, anything else (network, timeout, server error)
// wraps storage.ErrUnavailable so callers fail closed.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return storage.ErrNotFound
	default:
		return fmt.Errorf("%w: redis: %w", storage.ErrUnavailable, err)
	}
}

// ms is the expiry resolution used in values and scripts.
func ms(t time.Time) int64 { return t.UnixMilli() }

// Key layout. Braces mark Cluster hash tags: keys sharing a tag live in one
// slot, so scripts and transactions touching them work on Cluster.
func (s *Store) sessionKey(id string) string     { return s.prefix + "sess:" + id }
func (s *Store) codeKey(hash string) string      { return s.prefix + "code:{" + hash + "}" }
func (s *Store) consentSet(userID string) string { return s.prefix + "consent:{" + userID + "}" }
func (s *Store) consentKey(userID, clientID string) string {
	return s.consentSet(userID) + ":" + clientID
}
func (s *Store) oneTimeKey(hash string) string    { return s.prefix + "ott:" + hash }
func (s *Store) familyKey(familyID string) string { return s.prefix + "rt:{" + familyID + "}:f" }
func (s *Store) revokedKey(id string) string      { return s.prefix + "rev:" + id }
func (s *Store) notBeforeKey(userID string) string {
	return s.prefix + "nbf:" + userID
}
