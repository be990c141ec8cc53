package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"

	"user-registry/storage"
	"user-registry/storage/redisstore"
	"user-registry/storage/storagetest"
)

// testURL returns the Redis to test against, skipping when none is set.
func testURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("USER_REGISTRY_TEST_REDIS")
	if u == "" {
		t.Skip("USER_REGISTRY_TEST_REDIS not set")
	}
	return u
}

// openTest opens a store under a fresh random prefix and, at cleanup,
// deletes only keys under that prefix.
func openTest(t *testing.T, now func() time.Time) (*redisstore.Store, string) {
	t.Helper()
	url := testURL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "urtest:" + hex.EncodeToString(b) + ":"
	s, err := redisstore.Open(t.Context(), redisstore.Options{URL: url, Prefix: prefix, Now: now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		cleanPrefix(t, url, prefix)
	})
	return s, prefix
}

func cleanPrefix(t *testing.T, url, prefix string) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// rawClient is a direct connection for inspecting what the store wrote.
func rawClient(t *testing.T) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		testURL(t)
		storagetest.Run(t, func(t *testing.T, clock *storagetest.Clock) storagetest.Stores {
			s, _ := openTest(t, clock.Now)
			return storagetest.Stores{Sessions: s, Refresh: s, Revocations: s, Rate: s.Rate(), Nonces: s, Logout: s, Challenges: s, PasskeyChallenges: s}
		})
	})
}

// TestRealTTL checks every kind of key gets a Redis expiry no later than the
// item's own, so Redis frees it without the application.
func TestRealTTL(t *testing.T) {
	s, prefix := openTest(t, nil)
	c := rawClient(t)
	ctx := t.Context()
	exp := time.Now().Add(10 * time.Minute)
	fexp := time.Now().Add(time.Hour)

	writes := []struct {
		key   string
		write func() error
		max   time.Time
	}{
		{"sess:s1", func() error { return s.CreateSession(ctx, storage.Session{ID: "s1", ExpiresAt: exp}) }, exp},
		{"code:{c1}", func() error { return s.SaveCode(ctx, storage.AuthCode{Hash: "c1", ExpiresAt: exp}) }, exp},
		{"consent:{u1}:cl", func() error {
			return s.SaveConsent(ctx, storage.Consent{UserID: "u1", ClientID: "cl", ExpiresAt: exp})
		}, exp},
		{"consent:{u1}", nil, exp},
		{"ott:o1", func() error {
			return s.SaveOneTimeToken(ctx, storage.OneTimeToken{Hash: "o1", Purpose: "verify-email", ExpiresAt: exp})
		}, exp},
		{"rt:{f1}:f", func() error {
			return s.CreateRefresh(ctx, storage.RefreshToken{Hash: "r1", FamilyID: "f1", ExpiresAt: exp, FamilyExpiresAt: fexp})
		}, fexp},
		{"rev:j1", func() error { return s.Revoke(ctx, "j1", exp) }, exp},
		{"nbf:u1", func() error { return s.SetNotBefore(ctx, "u1", time.Now(), exp, "") }, exp},
		{"once:n1", func() error { _, err := s.UseOnce(ctx, "n1", exp); return err }, exp},
		{"par:p1", func() error {
			return s.SavePushedRequest(ctx, storage.PushedRequest{Hash: "p1", ClientID: "cl", ExpiresAt: exp})
		}, exp},
		{"pkc:pklogin:k1", func() error {
			return s.SavePasskeyChallenge(ctx, storage.PasskeyChallenge{Key: "pklogin:k1", Session: []byte{0}, ExpiresAt: exp})
		}, exp},
	}
	for _, w := range writes {
		if w.write != nil {
			if err := w.write(); err != nil {
				t.Fatalf("%s: %v", w.key, err)
			}
		}
		ttl, err := c.PTTL(ctx, prefix+w.key).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", w.key, err)
		}
		if ttl <= 0 || time.Now().Add(ttl).After(w.max.Add(time.Second)) {
			t.Errorf("%s: PTTL = %v, want > 0 and ending by %v", w.key, ttl, w.max)
		}
	}
}

func TestUnavailable(t *testing.T) {
	cases := []struct {
		name string
		opts redisstore.Options
	}{
		{"bad URL", redisstore.Options{URL: "http://127.0.0.1:6379"}},
		{"no address", redisstore.Options{}},
		{"closed port", redisstore.Options{URL: "redis://127.0.0.1:1/0"}},
		{"sentinel without master", redisstore.Options{SentinelAddrs: []string{"127.0.0.1:1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			start := time.Now()
			s, err := redisstore.Open(ctx, c.opts)
			if !errors.Is(err, storage.ErrUnavailable) {
				t.Fatalf("Open: err = %v, want ErrUnavailable", err)
			}
			if s != nil {
				t.Fatal("Open returned a store with an error")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("Open took %v to fail", d)
			}
		})
	}
}

// TestDownAfterOpen checks that operations fail closed once Redis goes away:
// errors wrap ErrUnavailable and are never read as "not revoked".
func TestDownAfterOpen(t *testing.T) {
	s, _ := openTest(t, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	revoked, err := s.IsRevoked(ctx, "j1")
	if !errors.Is(err, storage.ErrUnavailable) || revoked {
		t.Fatalf("IsRevoked on closed store = %v, %v; want ErrUnavailable", revoked, err)
	}
	checks := map[string]error{
		"Ping":        s.Ping(ctx),
		"Session":     func() error { _, err := s.Session(ctx, "x"); return err }(),
		"ConsumeCode": func() error { _, err := s.ConsumeCode(ctx, "x"); return err }(),
		"NotBefore":   func() error { _, _, err := s.NotBefore(ctx, "u"); return err }(),
		"Rate": func() error {
			_, err := s.Rate().Peek(ctx, "k", limiter.Rate{Period: time.Minute, Limit: 5})
			return err
		}(),
	}
	for name, err := range checks {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s on closed store: err = %v, want ErrUnavailable", name, err)
		}
	}
}

// TestBadURLHidesPassword: the error for a malformed Redis URL (printed at
// start-up) must not repeat the URL and its password (SEC-50).
func TestBadURLHidesPassword(t *testing.T) {
	for _, u := range []string{
		"redis://:s3cr%zzet@127.0.0.1:6379/0",
		"redis://user:s3cret@[::1/0",
		"rediss://:s3cret@127.0.0.1:6379/0?dial_timeout=bogus",
	} {
		_, err := redisstore.Open(t.Context(), redisstore.Options{URL: u})
		if err == nil {
			t.Fatalf("Open(%q) succeeded", u)
		}
		if strings.Contains(err.Error(), "s3cr") {
			t.Errorf("Open error reveals the password: %v", err)
		}
	}
}
