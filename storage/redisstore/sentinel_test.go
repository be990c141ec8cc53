package redisstore_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"user-registry/storage/redisstore"
	"user-registry/storage/storagetest"
)

// TestConformanceSentinel runs the suite through Redis Sentinel
// (--redis-sentinel/--redis-master) when USER_REGISTRY_TEST_REDIS_SENTINEL
// is "h1:p[,h2:p]/MASTER"; .ci/run starts a master and one sentinel for it.
func TestConformanceSentinel(t *testing.T) {
	t.Run("redis-sentinel", func(t *testing.T) {
		v := os.Getenv("USER_REGISTRY_TEST_REDIS_SENTINEL")
		addrs, master, ok := strings.Cut(v, "/")
		if !ok || master == "" {
			t.Skip("USER_REGISTRY_TEST_REDIS_SENTINEL unset")
		}
		storagetest.Run(t, func(t *testing.T, clock *storagetest.Clock) storagetest.Stores {
			b := make([]byte, 6)
			_, _ = rand.Read(b)
			prefix := "urtest:" + hex.EncodeToString(b) + ":"
			s, err := redisstore.Open(t.Context(), redisstore.Options{
				SentinelAddrs: strings.Split(addrs, ","), MasterName: master, Prefix: prefix, Now: clock.Now,
			})
			if err != nil {
				t.Fatalf("Open through sentinel: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return storagetest.Stores{Sessions: s, Refresh: s, Revocations: s, Rate: s.Rate(), Nonces: s, Logout: s, Challenges: s, PasskeyChallenges: s}
		})
	})
}
