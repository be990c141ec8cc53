package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"user-registry/storage/redisstore"
	"user-registry/storage/storagetest"
)

// TestConformanceCluster runs the suite on a Redis Cluster (SPEC §9: every
// script runs on Cluster, so the keys one operation touches share a hash
// tag) when USER_REGISTRY_TEST_REDIS_CLUSTER lists its nodes (h1:p,h2:p,...);
// .ci/run starts a three-node cluster for it.
func TestConformanceCluster(t *testing.T) {
	t.Run("redis-cluster", func(t *testing.T) {
		nodes := os.Getenv("USER_REGISTRY_TEST_REDIS_CLUSTER")
		if nodes == "" {
			t.Skip("USER_REGISTRY_TEST_REDIS_CLUSTER not set")
		}
		addrs := strings.Split(nodes, ",")
		storagetest.Run(t, func(t *testing.T, clock *storagetest.Clock) storagetest.Stores {
			b := make([]byte, 6)
			_, _ = rand.Read(b)
			prefix := "urtest:" + hex.EncodeToString(b) + ":"
			s, err := redisstore.Open(t.Context(), redisstore.Options{ClusterAddrs: addrs, Prefix: prefix, Now: clock.Now})
			if err != nil {
				t.Fatalf("Open cluster: %v", err)
			}
			t.Cleanup(func() {
				_ = s.Close()
				cleanClusterPrefix(t, addrs, prefix)
			})
			return storagetest.Stores{Sessions: s, Refresh: s, Revocations: s, Rate: s.Rate(), Nonces: s, Logout: s, Challenges: s, PasskeyChallenges: s}
		})
	})
}

// cleanClusterPrefix deletes the keys under prefix on every master.
func cleanClusterPrefix(t *testing.T, addrs []string, prefix string) {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	ctx := context.Background()
	err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			node.Del(ctx, iter.Val())
		}
		return iter.Err()
	})
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
}
