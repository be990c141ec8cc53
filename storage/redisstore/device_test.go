package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"user-registry/storage"
	"user-registry/storage/redisstore"
	"user-registry/storage/storagetest"
)

func TestDeviceConformance(t *testing.T) {
	testURL(t)
	storagetest.RunDevice(t, func(t *testing.T, clock *storagetest.Clock) storage.DeviceStore {
		s, _ := openTest(t, clock.Now)
		return s
	})
}

// TestDeviceConformanceCluster runs the device suite on a Redis Cluster
// when USER_REGISTRY_TEST_REDIS_CLUSTER lists its nodes: every device
// operation is a one-key command or script, so it runs there too.
func TestDeviceConformanceCluster(t *testing.T) {
	nodes := os.Getenv("USER_REGISTRY_TEST_REDIS_CLUSTER")
	if nodes == "" {
		t.Skip("USER_REGISTRY_TEST_REDIS_CLUSTER not set")
	}
	addrs := strings.Split(nodes, ",")
	storagetest.RunDevice(t, func(t *testing.T, clock *storagetest.Clock) storage.DeviceStore {
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
		return s
	})
}

func BenchmarkDevicePoll(b *testing.B) {
	url := os.Getenv("USER_REGISTRY_TEST_REDIS")
	if url == "" {
		b.Skip("USER_REGISTRY_TEST_REDIS not set")
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	prefix := "urbench:" + hex.EncodeToString(buf) + ":"
	s, err := redisstore.Open(b.Context(), redisstore.Options{URL: url, Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = s.Close()
		opts, _ := redis.ParseURL(url)
		c := redis.NewClient(opts)
		defer c.Close()
		keys, _ := c.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(context.Background(), keys...)
		}
	})
	storagetest.BenchDevicePoll(b, s)
}
